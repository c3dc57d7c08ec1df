"""Soft reboot and clean stop/start: the guest is asked to shut down before anything is forced.

As Nova's compute host does them (nova/virt/libvirt/driver.py, Nova 34.0.0):

- ``soft_reboot``: ``reboot`` (driver.py:4169) -> ``_soft_reboot`` (driver.py:4195):
  ``guest.shutdown()`` (``virDomainShutdown``, flags 0: libvirt uses the guest agent when
  the domain has its channel, else the ACPI power button), then up to ``[libvirt]
  wait_soft_reboot_seconds`` (120) for the domain to be off, then ``guest.launch()``
  (guest.py:152, ``createWithFlags`` of the same definition: no redefinition). A guest that
  did not shut down in time gets ``_hard_reboot`` (the regenerated domain, destroy, start).
- ``clean_stop_start``: ``power_off`` (driver.py:4481) with a timeout -> ``_clean_shutdown``
  (driver.py:4404: ``guest.shutdown()``, asked again every retry interval, libvirt errors
  ignored) then ``_destroy``; ``power_on`` (driver.py:4487) is ``_hard_reboot``: the
  regenerated domain is defined and started.

The harness waits :data:`ASK_TIMEOUT` (far below Nova's 120 s; the guest image's init reacts
to the power button within a second or two, images/init) and records a :class:`Shutdown`:
clean when the domain went off by itself and the guest printed its ``CONFORMANCE-SHUTDOWN``
line for the boot that was asked (images/shutdown); otherwise the harness destroyed it.
:func:`check_shutdown` judges it: not clean because the driver's domain cannot receive the
request (no ``<acpi/>`` and no agent channel) is the driver's fail; not clean although it
could is no verdict (the guest or the host, not the driver).
The guests of these operations boot with ACPI on (:func:`boot_for`); every other guest keeps
the image's ``acpi=off``, which saves about 0.6 s per boot (images/README.md).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import asdict, dataclass, replace

import libvirt

from conformance.errors import GuestError
from conformance.live import HOST, expect
from conformance.live.restart import STOP_TIMEOUT, start_defined

ACPI_OPERATIONS = ("soft_reboot", "clean_stop_start")
ACPI_OFF = "acpi=off"
ASK_TIMEOUT = 20  # seconds the guest gets to shut down (Nova: 120)
RETRY_INTERVAL = 10  # clean_stop_start asks again after this long (Nova's shutdown_retry_interval)
POLL = 0.2
AGENT_CHANNEL = "org.qemu.guest_agent.0"
SHUTDOWN_MARKER = re.compile(r"CONFORMANCE-SHUTDOWN via=(\w+) action=(\w+) boot_id=([0-9a-f-]{36})")
FEATURE = "lifecycle"


def boot_for(operation: str, boot):
    """The :class:`~conformance.contract.Boot` a guest of ``operation`` boots with: ACPI on
    (the image's ``acpi=off`` dropped) for the operations that ask the guest, else ``boot``."""
    if operation not in ACPI_OPERATIONS:
        return boot
    return replace(boot, cmdline=" ".join(t for t in boot.cmdline.split() if t != ACPI_OFF))


def boot_kind(operation: str) -> str:
    """"acpi:" for a guest of ``operation`` booted with ACPI on, else "": a prefix of a
    lifecycle pair's domain keys, so a trail never hands a guest to a pair that needs the
    other command line (:mod:`conformance.live.trails`)."""
    return "acpi:" if operation in ACPI_OPERATIONS else ""


@dataclass
class Shutdown:
    """How the guest's shutdown went."""
    operation: str
    acpi: bool  # the running domain has <features><acpi/>
    agent_channel: bool  # ... and a channel named org.qemu.guest_agent.0
    timeout: float
    on_poweroff: str = "destroy"  # the domain's <on_poweroff> (libvirt's default: destroy)
    clean: bool = False  # off by itself, with the guest's shutdown line for the asked boot
    reacted: bool = False  # the guest printed its shutdown line for the asked boot
    off: bool = False  # the domain went off by itself within the timeout
    via: str = ""  # how the guest says it was asked: acpi or agent
    seconds: float = 0.0
    asked: int = 0  # virDomainShutdown calls
    errors: tuple = ()  # libvirt's answers to them that were errors
    destroyed: bool = False  # the harness had to destroy the domain
    then: str = ""  # what followed: launch, hard reboot, start

    @property
    def receivable(self) -> bool:
        return self.acpi or self.agent_channel

    def to_dict(self) -> dict:
        return {**asdict(self), "errors": list(self.errors)}


def receivers(live_xml) -> tuple[bool, bool]:
    """(has ``<acpi/>``, has the agent channel) of a domain's live XML."""
    acpi = live_xml.find("features/acpi") is not None
    channel = any(t.get("name") == AGENT_CHANNEL for t in live_xml.iterfind("devices/channel/target"))
    return acpi, channel


def on_poweroff(live_xml) -> str:
    return (live_xml.findtext("on_poweroff") or "destroy").strip()


def shutdown_lines(guest, boot_id: str) -> list[tuple[str, str]]:
    """(via, action) of the guest's CONFORMANCE-SHUTDOWN lines for the boot ``boot_id``."""
    return [(via, action) for via, action, boot in SHUTDOWN_MARKER.findall(guest.console_log())
            if boot == boot_id]


def _ask(guest, operation: str, record: Shutdown) -> None:
    """``virDomainShutdown`` (flags 0, Nova's ``guest.shutdown()``); a libvirt error is
    recorded and ignored, as Nova does (the domain may just have gone off)."""
    record.asked += 1
    try:
        guest.link.call(f"the {operation}'s shutdown request", lambda domain: domain.shutdown())
    except libvirt.libvirtError as exc:
        record.errors += (exc.get_error_message() or str(exc),)


def ask_to_shut_down(guest, operation: str, boot_id: str, timeout: float = ASK_TIMEOUT,
                     retry: float | None = None, clock=time.monotonic, sleep=time.sleep) -> Shutdown:
    """Ask the running ``guest`` (booted as ``boot_id``) to shut down and wait up to
    ``timeout`` s for its domain to be off, asking again every ``retry`` s (None: once).
    Each request runs in a thread of its own (an agent that never answers cannot hold the
    harness: libvirt's agent call ends when the domain is destroyed). Never destroys."""
    live = guest.live_xml()
    record = Shutdown(operation, *receivers(live), timeout=timeout, on_poweroff=on_poweroff(live))
    start = asked_at = clock()
    threads = [_in_thread(_ask, guest, operation, record)]
    while clock() - start < timeout:
        if guest.state()[0] in ("shutoff", "crashed", "gone"):
            record.off = True
            break
        if retry is not None and clock() - asked_at >= retry and not threads[-1].is_alive():
            asked_at = clock()
            threads.append(_in_thread(_ask, guest, operation, record))
        sleep(POLL)
    record.seconds = round(clock() - start, 2)
    lines = shutdown_lines(guest, boot_id)
    record.via, record.reacted = (lines[-1][0] if lines else ""), bool(lines)
    record.clean = record.off and record.reacted
    for thread in threads:
        thread.join(0 if not record.off else 5)
    return record


def _in_thread(function, *args) -> threading.Thread:
    thread = threading.Thread(target=function, args=args, daemon=True)
    thread.start()
    return thread


def _force_off(guest, record: Shutdown, operation: str) -> None:
    """Destroy the domain unless it is off already (Nova's ``_destroy``); a domain that went
    off between the wait and the destroy is not destroyed."""
    if record.off or guest.state()[0] == "shutoff":
        return
    try:
        guest.link.call(f"the {operation}'s destroy", lambda domain: domain.destroy())
    except libvirt.libvirtError as exc:
        if guest.state()[0] != "shutoff":
            raise GuestError(f"{guest.name}: {operation}: destroy failed: "
                             f"{exc.get_error_message()}") from None
    record.destroyed = True
    guest.wait_for_state("shutoff", STOP_TIMEOUT)


def soft_reboot(lab, guest, placement, after_xml: str, operation: str) -> dict:
    """Nova's ``_soft_reboot``: ask, wait, launch the same domain; a guest that did not shut
    down gets ``_hard_reboot`` (as :func:`~conformance.live.restart.restart_with`)."""
    record = ask_to_shut_down(guest, operation, guest.boot_ids()[-1], timeout=ASK_TIMEOUT)
    if not record.off:  # _hard_reboot: the regenerated domain (sandboxed first), destroy, start
        record.then = "hard reboot (the guest did not shut down in time)"
        noted = guest.history.defined(operation, after_xml)
        xml = noted["defined"] = lab.sandboxed(after_xml, placement)
        _force_off(guest, record, operation)  # it may go off meanwhile: no destroy then
        start_defined(lab, guest, xml, operation)
        return {"shutdown": record.to_dict()}
    guest.history.defined(operation, after_xml)  # not defined: the same domain is launched
    guest.restarted()
    record.then = "launch of the same domain"
    try:
        guest.link.call(f"the {operation}'s launch", lambda domain: domain.create())
    except libvirt.libvirtError as exc:
        raise GuestError(f"{guest.name}: {operation}: the domain did not start again: "
                         f"{exc.get_error_message()}") from None
    guest.note_booted()
    return {"shutdown": record.to_dict()}


def clean_stop_start(lab, guest, placement, after_xml: str, operation: str) -> dict:
    """Nova's ``power_off`` with a timeout (ask, asked again every retry interval, then
    destroy) and ``power_on`` (``_hard_reboot``: define the regenerated ``after_xml``,
    sandboxed before the guest is touched, and start it)."""
    noted = guest.history.defined(operation, after_xml)
    xml = noted["defined"] = lab.sandboxed(after_xml, placement)
    record = ask_to_shut_down(guest, operation, guest.boot_ids()[-1], timeout=ASK_TIMEOUT,
                              retry=RETRY_INTERVAL)
    _force_off(guest, record, operation)
    record.then = "start of the regenerated domain"
    start_defined(lab, guest, xml, operation)
    return {"shutdown": record.to_dict()}


def check_shutdown(guest, shutdown: dict, evidence: dict) -> dict:
    """Host level: the guest shut down cleanly when asked. Not clean because the driver's
    domain has neither ``<acpi/>`` nor the agent channel (the request cannot reach the
    guest) fails the driver; not clean although it could reach it is no verdict
    (GuestError: the guest or the host, not the driver)."""
    operation = shutdown["operation"]
    if shutdown["clean"]:
        return shutdown
    how = (f"asked {shutdown['asked']}x, not off by itself within {shutdown['timeout']} s, "
           + ("destroyed by the harness" if shutdown["destroyed"] else "off only later")
           if not shutdown["off"] else "off without the guest's clean-shutdown line")
    if shutdown["reacted"] and not shutdown["off"] and shutdown["on_poweroff"] != "destroy":
        expect(False, FEATURE, HOST, f"the domain after the guest powered off on the {operation}",
               "off (<on_poweroff> destroy, what Nova's domains get)",
               f"not off within {shutdown['timeout']} s: <on_poweroff>{shutdown['on_poweroff']}"
               f"</on_poweroff>; destroyed by the harness", shutdown=shutdown, **evidence)
    if not (shutdown["acpi"] or shutdown["agent_channel"]):
        expect(False, FEATURE, HOST, f"the guest's clean shutdown on the {operation}",
               "a domain that can be asked to shut down (<acpi/> or the guest agent channel)",
               f"neither <acpi/> nor the agent channel: the request never reached the guest "
               f"({how}; then {shutdown['then']})", shutdown=shutdown, **evidence)
    raise GuestError(f"{guest.name}: {operation}: the guest did not shut down cleanly although "
                     f"its domain can be asked ({how}); libvirt answered {list(shutdown['errors'])}; "
                     f"console tail:\n{guest.console_tail()}")


__all__ = ["ACPI_OPERATIONS", "ASK_TIMEOUT", "Shutdown", "boot_for", "boot_kind", "ask_to_shut_down",
           "soft_reboot", "clean_stop_start", "check_shutdown", "receivers"]
