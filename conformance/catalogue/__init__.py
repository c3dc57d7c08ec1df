"""The conformance case catalogue: every case of every feature, with stable uuid ids.

Ids are hard-coded uuid literals, registered in ``ids.txt`` (id, feature, name) and never
reused for another case (enforced by tests/unit/test_catalogue_ids.py).

``CASES`` is the create-time catalogue; ``LIFECYCLE_CASES`` are judged after a reboot,
stop/start, resize or rebuild (``Case.operation``; protocol-2 drivers and newer), then after
the operations of protocol 3 (``catalogue/operations.py``; protocol-3 drivers only);
``ALL_CASES`` is both, in feature order.
"""

from __future__ import annotations

from conformance.catalogue import (agent, hidden_hypervisor, locked_memory, mem_encryption,
                                   operations, pmu, q35, realtime, rng, watchdog)
from conformance.catalogue.case import DEFAULT_VIRT_TYPE, Case

FEATURES = ("agent", "watchdog", "rng", "pmu", "hidden_hypervisor", "locked_memory")
# the six features, then cases across features: q35 guests, realtime and memory encryption,
# then the protocol-3 operations (lifecycle cases only, after every protocol-2 one)
_MODULES = (agent, watchdog, rng, pmu, hidden_hypervisor, locked_memory, q35, realtime, mem_encryption,
            operations)

CASES: tuple[Case, ...] = tuple(c for module in _MODULES for c in module.CASES)
LIFECYCLE_CASES: tuple[Case, ...] = tuple(c for module in _MODULES for c in module.LIFECYCLE)
ALL_CASES: tuple[Case, ...] = CASES + LIFECYCLE_CASES


def all_cases(feature: str | None = None, *, lifecycle: bool = False) -> tuple[Case, ...]:
    """Every create-time case (with ``lifecycle=True`` also the lifecycle cases), or those
    of one feature, in catalogue order."""
    pool = ALL_CASES if lifecycle else CASES
    return tuple(c for c in pool if feature is None or c.feature == feature)


def by_id(case_id: str) -> Case:
    for c in ALL_CASES:
        if c.id == case_id:
            return c
    raise KeyError(f"no catalogue case with id {case_id}")


__all__ = ["Case", "CASES", "LIFECYCLE_CASES", "ALL_CASES", "FEATURES", "DEFAULT_VIRT_TYPE",
           "all_cases", "by_id"]
