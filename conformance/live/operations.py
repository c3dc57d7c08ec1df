"""How the harness performs each lifecycle operation on a running guest: one registry.

A :class:`Performer` does one operation to a guest that runs the before domain, as Nova's
compute host does it, and says what the operation leaves of the guest's boot: ``restarts``
(exactly one new boot id after it) or not (the same boot id, the domain running again).
``hosts`` is how many hosts of the run it needs. An operation without a performer is
certified at level xml only (:func:`conformance.live.requests.not_live_yet`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import libvirt

from conformance.contract import PROTOCOL_2_OPERATIONS
from conformance.errors import GuestError
from conformance.live import peers
from conformance.live.requests import not_live_yet

STOP_TIMEOUT = 30


@dataclass(frozen=True)
class Performer:
    perform: Callable  # (lab, guest, placement, after_xml, operation) -> None
    restarts: bool = True
    hosts: int = 1


def restart_with(lab, guest, placement, after_xml: str, operation: str) -> None:
    """Stop the domain (hard: ``destroy``), define the regenerated ``after_xml`` for the same
    domain (sandboxed with the guest's own placement: same libvirt name, uuid and console),
    start it: Nova's ``_hard_reboot`` (reboot, power on), ``finish_migration`` (resize),
    ``spawn`` (rebuild). XML the sandbox refuses raises before the guest is touched; XML
    libvirt refuses raises DomainRefused (the driver's failure, as on create). A stop or
    start cut by libvirtd going away is HostUnreachable (conformance.lab.link)."""
    noted = guest.history.defined(operation, after_xml)  # the failure artefacts show it
    xml = noted["defined"] = lab.sandboxed(after_xml, placement)
    try:
        guest.link.call(f"the {operation}'s destroy", lambda domain: domain.destroy())
    except libvirt.libvirtError as exc:
        raise GuestError(f"{guest.name}: {operation}: destroy failed: {exc.get_error_message()}") from None
    guest.wait_for_state("shutoff", STOP_TIMEOUT)
    start_defined(lab, guest, xml, operation)


def start_defined(lab, guest, xml: str, operation: str) -> None:
    """Define the sandboxed ``xml`` for the stopped ``guest``'s domain (same uuid) and start it."""
    domain = lab.define(xml)
    if domain.UUIDString() != guest.uuid:
        raise GuestError(f"{guest.name}: {operation}: the new definition has uuid "
                         f"{domain.UUIDString()}, not the instance's {guest.uuid}")
    guest.restarted()
    try:
        guest.link.call(f"the {operation}'s start", lambda domain: domain.create())
    except libvirt.libvirtError as exc:
        raise GuestError(f"{guest.name}: {operation}: the new domain did not start: "
                         f"{exc.get_error_message()}") from None
    guest.note_booted()


PERFORMERS: dict[str, Performer] = {op: Performer(restart_with) for op in PROTOCOL_2_OPERATIONS}


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


from conformance.live import migration  # noqa: E402 - performers of the two-host operations

PERFORMERS["cold_migrate"] = Performer(migration.cold_migrate, restarts=True, hosts=2)
PERFORMERS["evacuate"] = Performer(migration.evacuate, restarts=True, hosts=2)
PERFORMERS["live_migrate"] = Performer(migration.live_migrate, restarts=False, hosts=2)

__all__ = ["Performer", "PERFORMERS", "performer", "live_blocker", "restart_with", "start_defined"]
