"""conformance.live.lifecycle without libvirt: which cases are verified live, their requests,
and the persistence checks on a fake guest, judged on the driver's own answers (the
broken drivers of tests/broken_drivers: lifecycle_identity, ignores_operation)."""

import sys
from pathlib import Path

import pytest

from conformance.catalogue import LIFECYCLE_CASES
from conformance.contract import PROTOCOL_3_OPERATIONS
from conformance.drivers import load_driver
from conformance.errors import GuestError
from conformance.live import LiveCheckFailed, lifecycle, persistence, requests
from conformance.live.fakes import CommandResult, FakeGuest
from conformance.live.operations import live_blocker

UUID = "00000000-0000-4000-8000-00000000f00d"
OTHER = "00000000-0000-4000-8000-000000000bad"
TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # broken_drivers.<module>:driver specs
    sys.path.append(str(TESTS))


def test_accepted_lifecycle_cases_become_pairs():
    """Every lifecycle case is either a pair (reference and driver accept before and after) or
    not live with a reason; the reference's rejections stay at level 1, the protocol-3
    operations without a performer are not live yet and say so."""
    pairs, other = lifecycle.live_pairs(load_driver("reference"))
    assert len(pairs) + len(other) == len(LIFECYCLE_CASES)
    assert {p.operation for p in pairs} == {"reboot", "stop_start", "resize", "rebuild"} | {
        o for o in PROTOCOL_3_OPERATIONS if live_blocker(o) is None}
    operation = {c.id: c.operation for c in LIFECYCLE_CASES}
    for n in other:
        if live_blocker(operation[n.case_id]):
            assert n.reason == live_blocker(operation[n.case_id])  # not live yet, or one host
        else:
            assert "level 1 only" in n.reason
    assert all(p.group is p and p.case_ids(p.feature) == [p.case_id] for p in pairs)


def test_protocol_1_driver_has_no_live_pairs():
    """A driver without a protocol attribute is certified on create only: no lifecycle boots."""
    pairs, other = lifecycle.live_pairs(load_driver("broken_drivers.chatty:driver"))
    assert pairs == [] and all("certified on create only" in n.reason for n in other)


def test_live_requests_share_identity_and_add_the_agent():
    """Before and after have one identity; both images get the agent unless the case is about it."""
    case = next(c for c in LIFECYCLE_CASES if c.operation == "rebuild" and c.feature == "watchdog")
    before, after = requests.live_requests(case, "qemu", instance_name="instance-x",
                                            instance_uuid=UUID)
    assert (before.operation, after.operation) == ("create", "rebuild")
    assert before.instance_uuid == after.instance_uuid == UUID
    assert before.image == after.old_image
    assert after.image.properties["hw_qemu_guest_agent"] == "yes" == before.image.properties["hw_qemu_guest_agent"]
    agent_case = next(c for c in LIFECYCLE_CASES if c.feature == "agent" and c.name == "rebuild-turns-off")
    assert "hw_qemu_guest_agent" not in requests.live_requests(agent_case, "qemu")[1].image.properties


NAME = "instance-0000f00d"


def pair_of(operation: str, feature: str, name: str):
    case = next(c for c in LIFECYCLE_CASES
                if (c.operation, c.feature, c.name) == (operation, feature, name))
    return next(p for p in lifecycle.live_pairs(load_driver("reference"))[0] if p.case_id == case.id), case


def answers(driver, case) -> tuple[str, str]:
    """``driver``'s before and after domains of ``case`` for the instance NAME/UUID."""
    before, after = requests.live_requests(case, "qemu", instance_name=NAME, instance_uuid=UUID)
    return driver.build(before), driver.build(after)


def guest(boots, boot_id="boot-2", state="running", uuid=UUID, product_uuid=UUID):
    return FakeGuest(boots=list(boots), domain_state=state,
                     xml=f"<domain type='qemu'><uuid>{uuid}</uuid><devices/></domain>",
                     shell=[(r"boot_id", CommandResult(0, boot_id + "\n")),
                            (r"product_uuid", CommandResult(0, product_uuid + "\n"))])


def facts(driver="reference", operation="resize", feature="watchdog",
          name="resize-changes-action", boots=("boot-1",)):
    """The facts :func:`persistence.facts_before` records on a guest that booted ``boots``,
    for ``driver``'s answers to a lifecycle case."""
    pair, case = pair_of(operation, feature, name)
    before_xml, after_xml = answers(load_driver(driver), case)
    return persistence.facts_before(guest(boots), pair, before_xml, after_xml, NAME, UUID)


@pytest.mark.parametrize("boots", [["boot-1", "boot-2"], ["boot-2"]], ids=["appended", "truncated"])
def test_persistence_passes_after_one_new_boot(boots):
    """The driver answered the instance's identity before and after, changed what the
    operation changes; one new boot on the console (QEMU appends or truncates it), the
    same uuid live and in the guest's SMBIOS, the agent answers with the new boot id."""
    evidence = persistence.check_persisted_host(guest(boots), facts())
    assert evidence["boots_after"] == ["boot-2"]
    assert evidence["answered"]["after"] == {"uuid": UUID, "name": NAME}
    assert evidence["must_change"] == ["watchdog"] and evidence["domain_changed"]
    evidence = persistence.check_persisted_guest(guest(boots), facts())
    assert (evidence["boot_now"], evidence["product_uuid"]) == ("boot-2", UUID)


@pytest.mark.parametrize("operation, feature, name", [
    ("reboot", "watchdog", "reboot-keeps-flavor-action"),
    ("stop_start", "rng", "stop-start-keeps-rate"),
    ("resize", "rng", "resize-changes-rate"),
    ("rebuild", "agent", "rebuild-turns-on"),
])
@pytest.mark.parametrize("rule, what", [("uuid", "<uuid>"), ("sysinfo", "<sysinfo> uuid"),
                                        ("name", "<name>")])
def test_persistence_host_fails_on_another_identity_answered(operation, feature, name, rule, what):
    """The driver's own answer after the operation is judged (before the sandbox rewrites
    anything): another uuid, SMBIOS uuid or name than the instance's fails the host level,
    for every operation."""
    broken = facts(f"broken_drivers.lifecycle_identity:{rule}_{operation}", operation, feature, name)
    with pytest.raises(LiveCheckFailed, match=f"driver's {what} after the {operation}"):
        persistence.check_persisted_host(guest(["boot-1", "boot-2"]), broken)


@pytest.mark.parametrize("operation, feature, name", [
    ("resize", "watchdog", "resize-changes-action"),
    ("resize", "rng", "resize-removes-rate"),
    ("rebuild", "hidden_hypervisor", "rebuild-turns-on"),
    ("rebuild", "watchdog", "rebuild-image-turns-off"),
])
def test_persistence_host_fails_when_the_driver_ignores_the_operation(operation, feature, name):
    """A driver whose domain after a resize/rebuild is its domain before, where the reference
    changes a feature, fails the host level (whichever feature the case is about)."""
    broken = facts(f"broken_drivers.ignores_operation:{operation}", operation, feature, name)
    assert not broken["domain_changed"] and broken["must_change"]
    with pytest.raises(LiveCheckFailed, match=f"domain after the {operation}"):
        persistence.check_persisted_host(guest(["boot-1", "boot-2"]), broken)


def test_an_operation_that_changes_nothing_needs_no_change():
    """Where the reference's features stay the same (a reboot), an unchanged domain is right."""
    kept = facts(operation="reboot", feature="watchdog", name="reboot-keeps-flavor-action")
    assert kept["must_change"] == [] and not kept["domain_changed"]
    persistence.check_persisted_host(guest(["boot-1", "boot-2"]), kept)


def test_persistence_host_fails_on_another_live_uuid():
    """The running domain is not the instance the driver answered for."""
    with pytest.raises(LiveCheckFailed, match="domain uuid after the resize"):
        persistence.check_persisted_host(guest(["boot-1", "boot-2"], uuid=OTHER), facts())


def test_persistence_guest_fails_on_another_smbios_uuid():
    """The guest reads its SMBIOS system uuid: not the instance's uuid the driver answered
    (e.g. the harness's own uuid forced on the domain) fails the guest level."""
    with pytest.raises(LiveCheckFailed, match="SMBIOS system uuid"):
        persistence.check_persisted_guest(guest(["boot-1", "boot-2"], product_uuid=OTHER), facts())


@pytest.mark.parametrize("fake, what", [
    (guest(["boot-1"]), "boots since the operation"),
    (guest(["boot-1", "boot-2", "boot-3"]), "boots since the operation"),
    (guest(["boot-1", "boot-2"], state="paused"), "domain state"),
], ids=["no-new-boot", "two-new-boots", "not-running"])
def test_a_guest_that_did_not_restart_once_is_no_verdict(fake, what):
    """Whether the guest restarted exactly once follows from the harness's own destroy,
    define and start: when it did not, nothing about the driver was decided (GuestError,
    reported as an error), never a failure of the driver."""
    with pytest.raises(GuestError, match=what):
        persistence.check_persisted_host(fake, facts())


def test_a_stale_in_guest_boot_id_is_no_verdict():
    """The kernel's boot id must be the new boot's; when it is not, the guest was not
    restarted by the operation: no verdict (GuestError)."""
    with pytest.raises(GuestError, match="in-guest boot id"):
        persistence.check_persisted_guest(guest(["boot-1", "boot-2"], boot_id="boot-1"), facts())


def test_persistence_on_a_trail_counts_only_boots_since_this_operation():
    """A trail's guest booted before (its console keeps earlier boots): exactly one boot
    that was not on the console before this operation passes, zero or two do not."""
    trail = facts(boots=("boot-1", "boot-2"))
    assert trail["boot_before"] == "boot-2" and trail["boots_seen"] == ["boot-1", "boot-2"]
    assert persistence.check_persisted_host(guest(["boot-1", "boot-2", "boot-3"], "boot-3"),
                                          trail)["boots_after"] == ["boot-3"]
    assert persistence.check_persisted_guest(guest(["boot-1", "boot-2", "boot-3"], "boot-3"),
                                           trail)["boot_now"] == "boot-3"
    for boots in (["boot-1", "boot-2"], ["boot-1", "boot-2", "boot-3", "boot-4"]):
        with pytest.raises(GuestError, match="boots since the operation"):
            persistence.check_persisted_host(guest(boots, "boot-3"), trail)


def test_pairs_carry_domain_keys_terminal_and_isolated():
    """Equal keys mean equal domains: a reboot keeps its domain; a watchdog pair whose
    guest check fires is terminal; locked-memory pairs are isolated."""
    pairs = lifecycle.pairs_of("reference")
    reboot = next(p for p in pairs if p.operation == "reboot" and p.feature == "agent")
    assert reboot.before_key == reboot.after_key and len(reboot.before_key) == 64
    assert {p.feature for p in pairs if p.terminal} == {"watchdog"}
    assert all(p.after.watchdog_action and p.after.agent for p in pairs if p.terminal)
    assert {p.feature for p in pairs if p.isolated} == {"locked_memory"}
