"""Watchdog, live: the i6300esb QEMU runs and what it does when it fires.

Host: ``query-pci`` shows an Intel 6300ESB (8086:25ab) iff a watchdog was requested, and
QEMU's command line carries the requested action (``-watchdog-action X`` or
``-action watchdog=X``). Guest: the i6300esb is visible (picked by
``/sys/class/watchdog/watchdogN/identity``, since machines may add other watchdogs);
without a watchdog the probe shows the watchdog class and the i6300esb driver exist and
lists the guest's PCI functions, none of them 8086:25ab (proof it would have seen one);
arming it with a short heartbeat and never feeding it makes it fire, and the domain
then does exactly what the action says: reset -> watchdog event + reboot with a new
boot id; poweroff -> shut off; pause -> paused (reason watchdog); none -> event only,
the same boot keeps running. An event that cannot have arrived (libvirtd restarted while
the watchdog was armed) and a state that cannot be read are the host's errors, never
"never fired" or a wrong state.
"""

from __future__ import annotations

import time

import libvirt

from conformance.live import GUEST, HOST, clip, expect
from conformance.live import qemu
from conformance.live.shell import key_values, read_sysfs, sh, sh_ok
from conformance.errors import GuestError, HostUnreachable, WaitTimeout
from conformance.waiters import wait_until

FEATURE = "watchdog"
PCI_ID = (0x8086, 0x25AB)
IDENTITY = "i6300ESB timer"  # also the name of its PCI driver in the guest
PCI_PROBE = ('[ -d /sys/class/watchdog ] && c=yes || c=no; echo "watchdog_class=$c"; '
             f'[ -d "/sys/bus/pci/drivers/{IDENTITY}" ] && d=yes || d=no; '
             'echo "i6300esb_driver=$d"; '
             'for f in /sys/bus/pci/devices/*; do [ -r "$f/device" ] && '
             'echo "pci=$(cat "$f/vendor"):$(cat "$f/device")"; done; true')
HEARTBEAT = 2  # seconds; the i6300esb fires after roughly one heartbeat unfed
# libvirt action -> what QEMU is told (libvirt passes "dump" as pause, then dumps).
QEMU_ACTION = {"reset": "reset", "poweroff": "poweroff", "pause": "pause", "none": "none",
               "shutdown": "shutdown", "dump": "pause", "inject-nmi": "inject-nmi"}
EVENT_ACTIONS = {libvirt.VIR_DOMAIN_EVENT_WATCHDOG_NONE: "none",
                 libvirt.VIR_DOMAIN_EVENT_WATCHDOG_PAUSE: "pause",
                 libvirt.VIR_DOMAIN_EVENT_WATCHDOG_RESET: "reset",
                 libvirt.VIR_DOMAIN_EVENT_WATCHDOG_POWEROFF: "poweroff",
                 libvirt.VIR_DOMAIN_EVENT_WATCHDOG_SHUTDOWN: "shutdown",
                 libvirt.VIR_DOMAIN_EVENT_WATCHDOG_DEBUG: "dump",
                 libvirt.VIR_DOMAIN_EVENT_WATCHDOG_INJECTNMI: "inject-nmi"}


def check_host(guest, action: str | None) -> dict:
    """An i6300esb exists iff ``action`` is set, and QEMU got that action."""
    functions = [f for f in qemu.pci_functions(guest) if (f["vendor"], f["device"]) == PCI_ID]
    argv = qemu.guest_cmdline(guest)
    got = qemu.watchdog_action(argv)
    evidence = {"i6300esb": [f["qdev_id"] for f in functions], "qemu_action": got}
    if action is None:
        expect(not functions, FEATURE, HOST, "i6300esb present although the watchdog is disabled",
               [], evidence["i6300esb"], **evidence)
        return evidence
    expect(len(functions) == 1, FEATURE, HOST, "i6300esb PCI function (8086:25ab) count",
           1, len(functions), **evidence)
    expect(got == QEMU_ACTION[action], FEATURE, HOST, "watchdog action on QEMU's command line",
           QEMU_ACTION[action], got, **evidence)
    return evidence


def guest_watchdogs(guest) -> dict[str, str]:
    """{"/dev/watchdogN": identity} for every watchdog the guest kernel registered."""
    found = read_sysfs(guest, "/sys/class/watchdog/watchdog*/identity")
    return {"/dev/" + path.split("/")[-2]: ident for path, ident in found.items()}


def i6300esb_device(guest) -> str | None:
    """The guest's /dev/watchdogN that is the i6300esb, or None."""
    for dev, ident in sorted(guest_watchdogs(guest).items()):
        if ident.strip() == IDENTITY:
            return dev
    return None


def pci_listing(guest) -> dict:
    """The guest's watchdog class, i6300esb driver and PCI functions ("0x8086:0x25ab", ...)."""
    out = sh_ok(guest, PCI_PROBE)
    values = key_values(out)
    return {"watchdog_class": values.get("watchdog_class") == "yes",
            "i6300esb_driver": values.get("i6300esb_driver") == "yes",
            "pci": [line[4:].strip() for line in out.splitlines() if line.startswith("pci=")]}


def check_guest_present(guest, action: str | None) -> dict:
    """The guest sees an i6300ESB watchdog iff ``action`` is set (absence with proof)."""
    devices = guest_watchdogs(guest)
    listing = pci_listing(guest)
    evidence = {"watchdogs": devices, **listing}
    has = IDENTITY in {v.strip() for v in devices.values()}
    expect(has == (action is not None), FEATURE, GUEST, "i6300ESB visible in the guest",
           action is not None, has, **evidence)
    if action is None:
        if not (listing["watchdog_class"] and listing["i6300esb_driver"] and listing["pci"]):
            raise GuestError(f"the watchdog absence probe could not have seen an i6300esb "
                             f"(watchdog class, i6300esb driver and PCI functions needed): "
                             f"{listing}")
        esb = f"{PCI_ID[0]:#06x}:{PCI_ID[1]:#06x}"
        expect(esb not in listing["pci"], FEATURE, GUEST,
               "PCI function 8086:25ab in the guest although the watchdog is disabled",
               "none", esb, **evidence)
    return evidence


def arm(guest, device: str, heartbeat: int = HEARTBEAT) -> float:
    """Open ``device`` with a ``heartbeat`` s timeout and stop feeding it; return the time armed.

    busybox ``watchdog -T H -t 100`` sets the timeout to H and feeds only every 100 s;
    it is killed right after the first feed, so the timer is never fed again.
    """
    armed = time.monotonic()
    result = sh(guest, f"watchdog -T {heartbeat} -t 100 {device}; "
                       f"sleep 0.2; killall -9 watchdog 2>/dev/null; echo armed", timeout=20)
    expect(result.rc == 0, FEATURE, GUEST, "arming the watchdog", 0, result.rc,
           stderr=clip(result.stderr))
    return armed


def _fired_event(guest):
    for event in list(guest.events):
        if getattr(event, "kind", None) == "watchdog":
            return event
    return None


def _event_action(event) -> str:
    raw = getattr(event, "detail", None)
    if isinstance(raw, dict):
        raw = raw.get("action")
    return EVENT_ACTIONS.get(raw, str(raw))


def check_fires(guest, action: str, heartbeat: int = HEARTBEAT, timeout: float = 90) -> dict:
    """Arm the guest's i6300esb, let it expire and verify the domain does ``action``."""
    device = i6300esb_device(guest)
    expect(device is not None, FEATURE, GUEST, "no i6300ESB watchdog in the guest",
           IDENTITY, guest_watchdogs(guest))
    boots_before = guest.boot_ids()
    boot_before = boots_before[-1] if boots_before else None
    mark = guest.events_mark()
    armed = arm(guest, device, heartbeat)
    try:
        event = wait_until(lambda: _fired_event(guest), timeout, "watchdog event not received")
    except WaitTimeout:
        guest.require_events_since(mark, "the watchdog event")  # not lost with the connection
        expect(False, FEATURE, GUEST, "watchdog never fired", f"an event within {timeout:g} s",
               None, device=device, heartbeat_s=heartbeat, console=clip(guest.console_tail(10)))
    latency = round(getattr(event, "at", time.monotonic()) - armed, 2)
    got = _event_action(event)
    evidence = {"device": device, "heartbeat_s": heartbeat, "fire_latency_s": latency,
                "event_action": got}
    expect(got == action, FEATURE, GUEST, "watchdog event action", action, got, **evidence)
    if action == "reset":
        outcome = _await_reboot(guest, len(boots_before), timeout)
        evidence["boot_ids"] = [boot_before, outcome]
        expect(outcome not in (None, "shutoff", boot_before), FEATURE, GUEST,
               "guest did not come back with a new boot id after the reset", "a new boot id",
               outcome, **evidence)
        guest.wait_for_agent(timeout)
    elif action == "poweroff":
        state = _await_state(guest, "shutoff", timeout, evidence)
        evidence["state"] = state
    elif action == "pause":
        state = _await_state(guest, "paused", timeout, evidence)
        reason = _state(guest)[1]
        evidence.update(state=state, reason=reason)
        expect(reason == "watchdog", FEATURE, GUEST, "pause reason", "watchdog", reason,
               **evidence)
    elif action == "none":
        guest.ping()
        boot_now = sh(guest, "cat /proc/sys/kernel/random/boot_id").stdout
        boot_now = boot_now.decode() if isinstance(boot_now, bytes) else boot_now
        evidence["boot_ids"] = [boot_before, boot_now.strip()]
        expect(boot_now.strip() == boot_before, FEATURE, GUEST,
               "guest rebooted although the action is none", boot_before, boot_now.strip(),
               **evidence)
    return evidence


def _await_reboot(guest, boots_before: int, timeout: float) -> str | None:
    """The next boot's id, "shutoff" if the domain stopped instead, None on timeout."""
    def outcome():
        ids = guest.boot_ids()
        if len(ids) > boots_before:
            return ids[boots_before]
        if _state(guest)[0] in ("shutoff", "crashed", "gone"):
            return "shutoff"
        return None
    try:
        return wait_until(outcome, timeout, "no new boot after the watchdog reset",
                          fatal=(HostUnreachable,))
    except WaitTimeout:
        return None


def _state(guest) -> tuple[str, str]:
    """(state, reason) of the guest's domain, e.g. ("paused", "watchdog")."""
    return guest.state()


def _await_state(guest, state: str, timeout: float, evidence: dict) -> str:
    """Wait for ``state``; a state not reached in time is the check failing (a host that went
    away is HostUnreachable, the host's error)."""
    try:
        guest.wait_for_state(state, timeout)
    except WaitTimeout as exc:
        expect(False, FEATURE, GUEST, "domain state after the watchdog fired", state,
               clip(exc), **evidence)
    return state
