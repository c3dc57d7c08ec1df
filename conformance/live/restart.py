"""Restarting a guest's domain with a new definition: what Nova's hard reboot, resize,
rebuild and power on have in common (used by :mod:`conformance.live.operations` and the
performers that fall back to it)."""

from __future__ import annotations

import libvirt

from conformance.errors import GuestError

STOP_TIMEOUT = 30


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


__all__ = ["STOP_TIMEOUT", "restart_with", "start_defined"]
