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
class Realtime:
    """Realtime vCPUs: scheduled SCHED_FIFO at ``priority`` (``<cputune><vcpusched>``)."""
    vcpus: frozenset[int]
    priority: int = 1


@dataclass(frozen=True)
class Features:
    """Effective settings of the six features (what the domain XML will express).

    ``watchdog_action`` None means no watchdog device; ``pmu`` None means no
    ``<pmu>`` element (the hypervisor decides); ``rng`` None means no RNG device.
    What shapes them besides: ``machine_type`` (``<os><type machine>``), ``pinning`` (the
    host CPU of each vCPU of a dedicated instance; None: floating), ``realtime`` (None: not
    realtime), ``mem_encryption`` (the model in ``<launchSecurity>``; None: not encrypted)
    and ``virtio_iommu`` (``<driver iommu='on'/>`` on virtio devices and an explicit
    virtio-serial controller for the agent: memory encryption before Nova 34.0.0).
    """
    agent: bool = False
    watchdog_action: str | None = None
    rng: RngSettings | None = None
    pmu: bool | None = None
    hide_hypervisor: bool = False
    locked_memory: bool = False
    machine_type: str = "pc"
    pinning: tuple[int, ...] | None = None
    realtime: Realtime | None = None
    mem_encryption: str | None = None
    virtio_iommu: bool = False
