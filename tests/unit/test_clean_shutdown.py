"""Soft reboot and clean stop/start (conformance.live.clean_shutdown) on an in-memory domain:
the guest is asked first, the same domain is launched again after a clean soft reboot, a
guest that does not react is forced (hard reboot, destroy) and judged by whether its domain
could receive the request at all."""

import re
import threading

import libvirt
import pytest

from conformance.contract import Boot
from conformance.errors import GuestError
from conformance.lab.history import GuestHistory
from conformance.lab.sandbox import SandboxViolation
from conformance.live import LiveCheckFailed, clean_shutdown, operations
from conformance.live.clean_shutdown import boot_for, check_shutdown

BOOT = "11111111-2222-4333-8444-555555555555"
NEW_BOOT = "66666666-2222-4333-8444-555555555555"
ACPI_DOMAIN = "<domain><features><acpi/></features><devices/></domain>"
AGENT_DOMAIN = ("<domain><features/><devices><channel type='unix'><target type='virtio' "
                "name='org.qemu.guest_agent.0'/></channel></devices></domain>")
DEAF_DOMAIN = "<domain><features><apic/></features><devices/></domain>"


class FakeDomain:
    """A libvirt domain whose guest reacts to virDomainShutdown as told: ``reacts`` (prints
    the shutdown line and goes off), ``silent_off`` (goes off, no line), or ignores it."""

    def __init__(self, guest, reacts=True, silent_off=False, error=None, block=None, stays_on=False):
        self.guest, self.reacts, self.silent_off, self.error, self.block = guest, reacts, silent_off, error, block
        self.stays_on = stays_on  # <on_poweroff>restart</on_poweroff>: the guest's poweroff restarts it
        self.calls = []

    def UUIDString(self):
        return self.guest.uuid

    def shutdown(self):
        self.calls.append("shutdown")
        if self.block is not None:
            self.block.wait(5)
        if self.error:
            raise libvirt.libvirtError(self.error)
        if self.reacts:
            self.guest.console += f"CONFORMANCE-SHUTDOWN via=acpi action=poweroff boot_id={BOOT}\n"
        if (self.reacts or self.silent_off) and not self.stays_on:
            self.guest.running = False

    def destroy(self):
        self.calls.append("destroy")
        self.guest.running = False

    def create(self):
        self.calls.append("create")
        self.guest.running = True
        self.guest.console += f"CONFORMANCE-BOOT boot_id={NEW_BOOT} uptime=1\n"


class FakeLink:
    def __init__(self, domain):
        self.domain = domain

    def call(self, what, call):
        return call(self.domain)


class FakeGuest:
    name, uuid = "cfm-fake", "00000000-0000-4000-8000-00000000f00d"

    def __init__(self, xml=ACPI_DOMAIN, **behaviour):
        self.xml, self.running, self.history = xml, True, GuestHistory()
        self.console = f"CONFORMANCE-BOOT boot_id={BOOT} uptime=1\n"
        self.link = FakeLink(FakeDomain(self, **behaviour))
        self.restarts = 0

    @property
    def calls(self):
        return self.link.domain.calls

    def live_xml(self):
        from lxml import etree
        return etree.fromstring(self.xml)

    def state(self):
        return ("running", "1") if self.running else ("shutoff", "1")

    def console_log(self):
        return self.console

    def console_tail(self, lines=15):
        return self.console

    def boot_ids(self):
        return re.findall(r"CONFORMANCE-BOOT boot_id=(\S+)", self.console)

    def restarted(self):
        self.restarts += 1

    def note_booted(self):
        pass

    def wait_for_state(self, state, timeout):
        assert self.state()[0] == state


class FakeLab:
    def __init__(self, guest, refuse=False):
        self.guest, self.refuse, self.defined = guest, refuse, []

    def sandboxed(self, xml, placement):
        if self.refuse:
            raise SandboxViolation("lifecycle", "refused")
        return f"sandboxed:{xml}"

    def define(self, xml):
        self.defined.append(xml)
        return self.guest.link.domain


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(clean_shutdown, "ASK_TIMEOUT", 0.6)
    monkeypatch.setattr(clean_shutdown, "RETRY_INTERVAL", 0.25)
    monkeypatch.setattr(clean_shutdown, "POLL", 0.02)


def perform(operation, guest, lab=None):
    lab = lab or FakeLab(guest)
    facts = operations.performer(operation).perform(lab, guest, None, "<after/>", operation)
    return lab, facts["shutdown"]


def test_both_operations_are_live_and_restart_the_guest():
    for operation in clean_shutdown.ACPI_OPERATIONS:
        assert operations.live_blocker(operation) is None
        assert operations.performer(operation).restarts


def test_a_clean_soft_reboot_launches_the_same_domain_without_redefining_it():
    guest = FakeGuest()
    lab, shutdown = perform("soft_reboot", guest)
    assert guest.calls == ["shutdown", "create"] and lab.defined == []
    assert shutdown["clean"] and shutdown["via"] == "acpi" and not shutdown["destroyed"]
    assert guest.restarts == 1 and guest.boot_ids()[-1] == NEW_BOOT
    assert check_shutdown(guest, shutdown, {}) is shutdown


def test_a_soft_reboot_the_guest_ignores_falls_back_to_a_hard_reboot():
    """Nova's reboot falls back to _hard_reboot: destroy, define the regenerated domain, start."""
    guest = FakeGuest(xml=ACPI_DOMAIN, reacts=False)
    lab, shutdown = perform("soft_reboot", guest)
    assert guest.calls == ["shutdown", "destroy", "create"] and lab.defined == ["sandboxed:<after/>"]
    assert not shutdown["clean"] and not shutdown["off"] and shutdown["destroyed"]
    assert shutdown["then"].startswith("hard reboot")


def test_a_domain_that_cannot_be_asked_fails_the_driver():
    """No <acpi/> and no agent channel: the request never reaches the guest (the broken
    driver "a soft reboot that never asks the guest"), the driver's fail."""
    guest = FakeGuest(xml=DEAF_DOMAIN, reacts=False)
    _, shutdown = perform("soft_reboot", guest)
    assert not shutdown["acpi"] and not shutdown["agent_channel"]
    with pytest.raises(LiveCheckFailed, match="never reached the guest"):
        check_shutdown(guest, shutdown, {})


@pytest.mark.parametrize("xml", [ACPI_DOMAIN, AGENT_DOMAIN])
def test_a_guest_that_could_be_asked_but_did_not_react_is_no_verdict(xml):
    guest = FakeGuest(xml=xml, reacts=False)
    _, shutdown = perform("clean_stop_start", guest)
    with pytest.raises(GuestError, match="can be asked"):
        check_shutdown(guest, shutdown, {})


def test_a_domain_off_without_the_guests_line_was_not_clean():
    guest = FakeGuest(reacts=False, silent_off=True)
    _, shutdown = perform("soft_reboot", guest)
    assert shutdown["off"] and not shutdown["clean"]
    with pytest.raises(GuestError, match="without the guest's clean-shutdown line"):
        check_shutdown(guest, shutdown, {})


def test_a_shutdown_line_of_an_earlier_boot_does_not_count():
    guest = FakeGuest(reacts=False, silent_off=True)
    guest.console = (f"CONFORMANCE-SHUTDOWN via=acpi action=poweroff boot_id={NEW_BOOT}\n"
                     + guest.console)
    _, shutdown = perform("soft_reboot", guest)
    assert not shutdown["clean"]


def test_clean_stop_start_asks_again_then_destroys_and_starts_the_regenerated_domain():
    """_clean_shutdown asks again every retry interval and ignores libvirt's errors;
    power_off then destroys; power_on defines and starts the regenerated domain."""
    guest = FakeGuest(reacts=False, error="Guest agent is not responding")
    lab, shutdown = perform("clean_stop_start", guest)
    assert guest.calls.count("shutdown") >= 2 and guest.calls[-2:] == ["destroy", "create"]
    assert shutdown["asked"] >= 2 and shutdown["errors"][0] == "Guest agent is not responding"
    assert shutdown["destroyed"] and lab.defined == ["sandboxed:<after/>"]


def test_a_clean_stop_start_does_not_destroy():
    guest = FakeGuest()
    lab, shutdown = perform("clean_stop_start", guest)
    assert guest.calls == ["shutdown", "create"] and shutdown["clean"]
    assert lab.defined == ["sandboxed:<after/>"]


def test_xml_the_sandbox_refuses_stops_clean_stop_start_before_the_guest_is_asked():
    guest = FakeGuest()
    with pytest.raises(SandboxViolation):
        operations.performer("clean_stop_start").perform(FakeLab(guest, refuse=True), guest, None,
                                                         "<after/>", "clean_stop_start")
    assert guest.calls == [] and guest.running


def test_a_shutdown_request_that_never_returns_does_not_hold_the_harness():
    """libvirt's agent shutdown may wait for the guest for ever: the wait is bounded and the
    domain is destroyed (which ends the request)."""
    block = threading.Event()
    guest = FakeGuest(reacts=False, block=block)
    _, shutdown = perform("clean_stop_start", guest)
    block.set()
    assert shutdown["asked"] == 1 and shutdown["destroyed"] and shutdown["seconds"] < 2


def test_only_the_asking_operations_boot_with_acpi():
    boot = Boot(cmdline="console=ttyS0 panic=-1 quiet noapictimer acpi=off")
    assert boot_for("soft_reboot", boot).cmdline == "console=ttyS0 panic=-1 quiet noapictimer"
    assert boot_for("clean_stop_start", boot).kernel == boot.kernel
    assert boot_for("reboot", boot) is boot and boot_for("stop_start", boot) is boot


def test_the_driver_that_never_lets_the_guest_be_asked_passes_at_level_xml():
    """broken_drivers.soft_reboot_unasked (no <acpi/>) is right on every level-xml check of
    the soft reboot and clean stop/start cases: its defect shows only live, where the
    guest without the agent cannot be asked (tests/functional/test_broken_drivers_live.py)."""
    import sys
    from pathlib import Path

    from conformance.catalogue import LIFECYCLE_CASES
    from conformance.checks.level_xml import judge_xml
    from conformance.drivers import load_driver
    tests = str(Path(__file__).resolve().parents[1])
    if tests not in sys.path:
        sys.path.append(tests)
    driver = load_driver("broken_drivers.soft_reboot_unasked:driver")
    cases = [c for c in LIFECYCLE_CASES if c.operation in clean_shutdown.ACPI_OPERATIONS]
    assert "<acpi" not in driver.build(cases[0].before_request())
    verdicts = [judge_xml(case, driver) for case in cases]
    assert all(v.outcome == "pass" for v in verdicts), [(v.outcome, v.reason) for v in verdicts]


def test_a_domain_that_does_not_stop_when_its_guest_powers_off_fails_the_driver():
    """A hostile or careless <on_poweroff>restart</on_poweroff>: the guest shut down cleanly,
    the domain never went off (Nova's power off would never finish); bounded, destroyed, failed."""
    guest = FakeGuest(xml="<domain><on_poweroff>restart</on_poweroff><features><acpi/></features>"
                          "<devices/></domain>", stays_on=True)
    _, shutdown = perform("clean_stop_start", guest)
    assert shutdown["reacted"] and not shutdown["off"] and shutdown["destroyed"]
    with pytest.raises(LiveCheckFailed, match="on_poweroff>restart"):
        check_shutdown(guest, shutdown, {})


def test_a_guest_that_goes_off_just_after_the_wait_is_not_destroyed(monkeypatch):
    """The domain went off between the end of the wait and the fallback: no destroy (it would
    fail on a domain that is not running), the regenerated domain is started."""
    asked = clean_shutdown.ask_to_shut_down

    def then_off(guest, *args, **kwargs):
        record = asked(guest, *args, **kwargs)
        guest.running = False
        return record
    monkeypatch.setattr(clean_shutdown, "ask_to_shut_down", then_off)
    guest = FakeGuest(reacts=False)
    lab, shutdown = perform("soft_reboot", guest)
    assert guest.calls == ["shutdown", "create"] and lab.defined == ["sandboxed:<after/>"]
    assert not shutdown["destroyed"] and not shutdown["clean"]
    with pytest.raises(GuestError, match="off only later"):
        check_shutdown(guest, shutdown, {})


def test_trails_never_hand_a_guest_across_kernel_command_lines():
    """A trail's guest boots once with one command line: the reference's soft reboot and
    clean stop/start pairs chain among themselves, never with pairs booted with acpi=off."""
    from conformance.drivers import load_driver
    from conformance.live import lifecycle, trails
    pairs, _ = lifecycle.live_pairs(load_driver("reference"))
    planned = trails.plan_trails(pairs)
    assert sorted(p.case_id for t in planned for p in t) == sorted(p.case_id for p in pairs)
    for trail in planned:
        assert len({p.operation in clean_shutdown.ACPI_OPERATIONS for p in trail}) == 1, \
            [p.operation for p in trail]
    assert any(len(t) > 1 and t[0].operation in clean_shutdown.ACPI_OPERATIONS for t in planned)
