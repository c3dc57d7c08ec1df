"""The effective feature settings the reference derives from a request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RngSettings:
    """A virtio RNG device: host backend path and optional rate limit."""
    backend_path: str
    rate_bytes: int | None = None
    rate_period: int | None = None


@dataclass(frozen=True)
class Features:
    """Effective settings of the six features (what the domain XML will express).

    ``watchdog_action`` None means no watchdog device; ``pmu`` None means no
    ``<pmu>`` element (the hypervisor decides); ``rng`` None means no RNG device.
    """
    agent: bool = False
    watchdog_action: str | None = None
    rng: RngSettings | None = None
    pmu: bool | None = None
    hide_hypervisor: bool = False
    locked_memory: bool = False
