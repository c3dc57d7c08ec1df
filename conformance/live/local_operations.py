"""Pause, suspend and shelve, performed on one host as Nova's libvirt driver does them.

- ``pause_unpause``: ``LibvirtDriver.pause`` (``Guest.pause``: virDomainSuspend) and
  ``unpause`` (``Guest.resume``: virDomainResume, then ``Guest.sync_guest_time``, which
  never fails the unpause). Nothing is redefined: the same QEMU process, the same boot.
- ``suspend_resume``: ``suspend`` -> ``Guest.save_memory_state`` (virDomainManagedSave),
  ``resume`` -> ``_create_guest_with_network`` of ``_get_existing_domain_xml``: defineXML,
  then start, which libvirt turns into a restore of the managed save image. The image is
  libvirt's own file, named after the domain (/var/lib/libvirt/qemu/save/<name>.save); the
  name is harness-owned (the sandbox), so neither a driver nor the harness chooses a path.
  Measured with libvirt 9.0 (docs/reference-semantics.md): libvirt accepts the definition
  while the image exists, even a changed one (an RNG rate dropped, a device removed), and
  restores the domain saved in the image; the new definition is what the next start boots.
  So the harness defines the driver's after domain (its answer for the existing domain) and
  starts it; a driver that changed the domain shows in the definition libvirt keeps
  (:func:`check_kept_definition`), not in the restored guest. The image is gone after the
  restore (checked); teardown undefines a domain with its image (a failure mid-operation).
- ``shelve_unshelve``: ``_shelve_instance`` / ``_shelve_offload_instance``: power off
  (hard here: ``power_off`` without a clean-shutdown timeout), snapshot (nothing to take:
  the guest boots the harness's files, no disk), ``destroy`` + ``cleanup`` (undefine:
  ``_undefine_domain``); then ``_unshelve_instance`` -> ``spawn`` of the driver's after
  domain, a new domain with the instance's uuid, defined only once the old one is gone
  (checked).

Every operation judges the driver's after domain with the sandbox before the guest is
touched: a domain the sandbox refuses raises SandboxViolation and leaves the guest running.
"""

from __future__ import annotations

import difflib
import time

import libvirt
from lxml import etree

from conformance.errors import GuestError
from conformance.lab.teardown import UNDEFINE_FLAGS
from conformance.live import HOST, expect

STOP_TIMEOUT = 30  # seconds for a pause, a managed save or a destroy to show in the state
PAUSE_HOLD = 1.0  # seconds the guest stays paused (its vCPUs stopped) before the unpause
KEEPS_DOMAIN = ("pause_unpause", "suspend_resume")  # the guest runs the domain it ran before
MAX_DIFF_LINES = 40  # lines of a changed definition's diff in the evidence


def _judged(lab, guest, placement, after_xml: str, operation: str, defines: bool) -> str:
    """The driver's after domain, sandboxed (SandboxViolation before anything is done);
    recorded in the guest's history (as defined when the operation defines it)."""
    noted = guest.history.defined(operation, after_xml)
    xml = lab.sandboxed(after_xml, placement)
    if defines:
        noted["defined"] = xml
    return xml


def _call(guest, operation: str, what: str, call):
    try:
        return guest.link.call(f"the {operation}'s {what}", call)
    except libvirt.libvirtError as exc:
        raise GuestError(f"{guest.name}: {operation}: {what} failed: "
                         f"{exc.get_error_message()}") from None


def pause_unpause(lab, guest, placement, after_xml: str, operation: str) -> None:
    """Pause the running guest, hold it paused, unpause it; the driver's after domain is
    judged, never defined (Nova's unpause resumes the same domain)."""
    _judged(lab, guest, placement, after_xml, operation, defines=False)
    _call(guest, operation, "pause", lambda d: d.suspend())
    guest.wait_for_state("paused", STOP_TIMEOUT, reason="user")
    time.sleep(PAUSE_HOLD)
    _call(guest, operation, "unpause", lambda d: d.resume())
    sync_guest_time(guest)
    guest.note_booted()  # the artefacts keep the domain libvirt runs on (never redefined)


def sync_guest_time(guest) -> None:
    """``Guest.sync_guest_time``: set the guest's clock through its agent; best effort, as
    Nova (a guest without an agent, or one that cannot set it, keeps its clock)."""
    now = time.time()
    try:
        guest.link.call("the time sync", lambda d: d.setTime(
            {"seconds": int(now), "nseconds": int((now - int(now)) * 1e9)}, 0))
    except libvirt.libvirtError:
        pass


def suspend_resume(lab, guest, placement, after_xml: str, operation: str) -> None:
    """Managed save of the running guest, then define the driver's after domain and start it
    (libvirt restores the saved image); the image must exist in between and be gone after."""
    xml = _judged(lab, guest, placement, after_xml, operation, defines=True)
    _call(guest, operation, "managed save", lambda d: d.managedSave(0))
    guest.wait_for_state("shutoff", STOP_TIMEOUT)
    if not _call(guest, operation, "image check", lambda d: d.hasManagedSaveImage(0)):
        raise GuestError(f"{guest.name}: {operation}: no managed save image after the suspend")
    domain = lab.define(xml)
    if domain.UUIDString() != guest.uuid:
        raise GuestError(f"{guest.name}: {operation}: the definition has uuid "
                         f"{domain.UUIDString()}, not the instance's {guest.uuid}")
    guest.restarted()  # a new QEMU process, restored from the image
    _call(guest, operation, "resume", lambda d: d.create())
    if _call(guest, operation, "image check", lambda d: d.hasManagedSaveImage(0)):
        raise GuestError(f"{guest.name}: {operation}: libvirt kept the managed save image: "
                         "the start did not restore it")
    guest.note_booted()


def shelve_unshelve(lab, guest, placement, after_xml: str, operation: str, start) -> None:
    """Power off, undefine (shelve offload), check the domain is gone, then define the
    driver's after domain for the instance and start it (unshelve: spawn), with ``start``
    (:func:`conformance.live.operations.start_defined`, bound by the registry)."""
    xml = _judged(lab, guest, placement, after_xml, operation, defines=True)
    _call(guest, operation, "power off", lambda d: d.destroy())
    guest.wait_for_state("shutoff", STOP_TIMEOUT)
    _call(guest, operation, "undefine", lambda d: d.undefineFlags(UNDEFINE_FLAGS))
    require_gone(lab, guest, operation)
    start(lab, guest, xml, operation)


def require_gone(lab, guest, operation: str) -> None:
    """GuestError unless libvirt knows no domain by the guest's uuid or name any more."""
    conn = lab.connected()
    for key, lookup in ((guest.uuid, conn.lookupByUUIDString), (guest.name, conn.lookupByName)):
        try:
            lookup(key)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue
            raise GuestError(f"{guest.name}: {operation}: looking up {key} after the undefine "
                             f"failed: {exc.get_error_message()}") from None
        raise GuestError(f"{guest.name}: {operation}: a domain {key} is still defined after "
                         "the shelve offload's undefine")


def kept_definition(guest) -> str:
    """The definition libvirt keeps for the guest's domain (what its next start boots),
    without ``<metadata>``, which libvirt does not interpret (Nova rewrites its own there,
    e.g. ``nova:creationTime``, whenever it writes the domain)."""
    xml = guest.link.call("the definition read",
                          lambda d: d.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    if "<metadata" not in xml:
        return xml
    dom = etree.fromstring(xml.encode(), etree.XMLParser(resolve_entities=False, no_network=True))
    for node in dom.findall("metadata"):
        dom.remove(node)
    return etree.tostring(dom, encoding="unicode")


def definition_facts(guest, operation: str) -> dict:
    """Before an operation that keeps the domain: the definition libvirt keeps."""
    return {"definition_before": kept_definition(guest)} if operation in KEEPS_DOMAIN else {}


def check_kept_definition(guest, facts: dict) -> dict:
    """Host level, after an operation that keeps the domain: the definition libvirt keeps is
    the one it kept before (the guest runs the domain it ran before, and so must its next
    start). A resume with a driver's changed domain restores the saved domain but keeps the
    driver's definition: the change shows here."""
    before, now = facts["definition_before"], kept_definition(guest)
    diff = list(difflib.unified_diff(before.splitlines(), now.splitlines(), "before", "after",
                                     lineterm="", n=1))[:MAX_DIFF_LINES]
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    expect(before == now, "lifecycle", HOST,
           f"the definition libvirt keeps after the {facts['operation']} (what the next start boots)",
           "the domain's definition before it, unchanged", " | ".join(changed[:6]), diff=diff)
    return {"definition_unchanged": True}


__all__ = ["pause_unpause", "suspend_resume", "shelve_unshelve", "sync_guest_time",
           "require_gone", "kept_definition", "definition_facts", "check_kept_definition",
           "KEEPS_DOMAIN"]
