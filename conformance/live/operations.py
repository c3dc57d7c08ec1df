"""How the harness performs each lifecycle operation on a running guest: one registry.

A :class:`Performer` does one operation to a guest that runs the before domain, as Nova's
compute host does it, and says what the operation leaves of the guest's boot: ``restarts``
(exactly one new boot id after it) or not (the same boot id, the domain running again).
``hosts`` is how many hosts of the run it needs. An operation without a performer is
certified at level xml only (:func:`conformance.live.requests.not_live_yet`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from conformance.contract import PROTOCOL_2_OPERATIONS
from conformance.live import clean_shutdown, local_operations, migration, peers
from conformance.live.restart import STOP_TIMEOUT, restart_with, start_defined
from conformance.live.requests import not_live_yet

@dataclass(frozen=True)
class Performer:
    perform: Callable  # (lab, guest, placement, after_xml, operation) -> facts to add, or None
    restarts: bool = True
    hosts: int = 1


PERFORMERS: dict[str, Performer] = {op: Performer(restart_with) for op in PROTOCOL_2_OPERATIONS}
PERFORMERS.update(  # on one host: conformance.live.local_operations
    pause_unpause=Performer(local_operations.pause_unpause, restarts=False),
    suspend_resume=Performer(local_operations.suspend_resume, restarts=False),
    shelve_unshelve=Performer(partial(local_operations.shelve_unshelve, start=start_defined)))


def performer(operation: str) -> Performer | None:
    return PERFORMERS.get(operation)


def live_blocker(operation: str) -> str | None:
    """Why cases of ``operation`` get no live check in any run, or None."""
    if operation == "create":
        return None
    found = PERFORMERS.get(operation)
    if found is None:
        return not_live_yet(operation)
    return peers.blocker(operation, found.hosts)  # a two-host operation in a one-host run


# Operations that ask the guest to shut down first (ACPI power button or guest agent).
PERFORMERS.update(soft_reboot=Performer(clean_shutdown.soft_reboot),
                  clean_stop_start=Performer(clean_shutdown.clean_stop_start))
# Operations between two hosts of the run (conformance.live.migration, conformance.live.peers).
PERFORMERS.update(cold_migrate=Performer(migration.cold_migrate, restarts=True, hosts=2),
                  evacuate=Performer(migration.evacuate, restarts=True, hosts=2),
                  live_migrate=Performer(migration.live_migrate, restarts=False, hosts=2))

__all__ = ["Performer", "PERFORMERS", "performer", "live_blocker", "restart_with", "start_defined",
           "STOP_TIMEOUT"]
