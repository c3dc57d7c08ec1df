"""conformance.live.lifecycle without libvirt: which cases are verified live, their requests,
and the persistence checks on a fake guest."""

import sys
from pathlib import Path

import pytest

from conformance.catalogue import LIFECYCLE_CASES
from conformance.drivers import load_driver
from conformance.live import LiveCheckFailed, lifecycle
from conformance.live.fakes import CommandResult, FakeGuest

UUID = "00000000-0000-4000-8000-00000000f00d"
TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # broken_drivers.<module>:driver specs
    sys.path.append(str(TESTS))


def test_accepted_lifecycle_cases_become_pairs():
    """Every lifecycle case is either a pair (reference and driver accept before and after) or
    not live with a reason; the reference's rejections stay at level 1."""
    pairs, other = lifecycle.live_pairs(load_driver("reference"))
    assert len(pairs) + len(other) == len(LIFECYCLE_CASES)
    assert {p.operation for p in pairs} == {"reboot", "stop_start", "resize", "rebuild"}
    assert all("level 1 only" in n.reason for n in other)
    assert all(p.group is p and p.case_ids(p.feature) == [p.case_id] for p in pairs)


def test_protocol_1_driver_has_no_live_pairs():
    """A driver without a protocol attribute is certified on create only: no lifecycle boots."""
    pairs, other = lifecycle.live_pairs(load_driver("broken_drivers.chatty:driver"))
    assert pairs == [] and all("certified on create only" in n.reason for n in other)


def test_live_requests_share_identity_and_add_the_agent():
    """Before and after have one identity; both images get the agent unless the case is about it."""
    case = next(c for c in LIFECYCLE_CASES if c.operation == "rebuild" and c.feature == "watchdog")
    before, after = lifecycle.live_requests(case, "qemu", instance_name="instance-x",
                                            instance_uuid=UUID)
    assert (before.operation, after.operation) == ("create", "rebuild")
    assert before.instance_uuid == after.instance_uuid == UUID
    assert before.image == after.old_image
    assert after.image.properties["hw_qemu_guest_agent"] == "yes" == before.image.properties["hw_qemu_guest_agent"]
    agent_case = next(c for c in LIFECYCLE_CASES if c.feature == "agent" and c.name == "rebuild-turns-off")
    assert "hw_qemu_guest_agent" not in lifecycle.live_requests(agent_case, "qemu")[1].image.properties


def guest(boots, boot_id="boot-2", state="running", uuid=UUID):
    return FakeGuest(boots=list(boots), domain_state=state,
                     xml=f"<domain type='qemu'><uuid>{uuid}</uuid><devices/></domain>",
                     shell=[(r"boot_id", CommandResult(0, boot_id + "\n"))])


FACTS = {"uuid": UUID, "boot_before": "boot-1", "operation": "resize"}


@pytest.mark.parametrize("boots", [["boot-1", "boot-2"], ["boot-2"]], ids=["appended", "truncated"])
def test_persistence_passes_after_one_new_boot(boots):
    """One new boot on the console (QEMU appends or truncates it), same uuid, agent answers."""
    assert lifecycle.check_persisted_host(guest(boots), FACTS)["boots_after"] == ["boot-2"]
    assert lifecycle.check_persisted_guest(guest(boots), FACTS)["boot_now"] == "boot-2"


@pytest.mark.parametrize("fake, what", [
    (guest(["boot-1"]), "boots since the operation"),
    (guest(["boot-1", "boot-2", "boot-3"]), "boots since the operation"),
    (guest(["boot-1", "boot-2"], uuid="00000000-0000-4000-8000-000000000bad"), "domain uuid"),
    (guest(["boot-1", "boot-2"], state="paused"), "domain state"),
], ids=["no-new-boot", "two-new-boots", "other-uuid", "not-running"])
def test_persistence_host_fails(fake, what):
    with pytest.raises(LiveCheckFailed, match=what):
        lifecycle.check_persisted_host(fake, FACTS)


def test_persistence_guest_fails_on_a_stale_boot_id():
    """The kernel's boot id must be the new boot's, not the old one."""
    with pytest.raises(LiveCheckFailed, match="in-guest boot id"):
        lifecycle.check_persisted_guest(guest(["boot-1", "boot-2"], boot_id="boot-1"), FACTS)


TRAIL_FACTS = {**FACTS, "boot_before": "boot-2", "boots_seen": ["boot-1", "boot-2"]}


def test_persistence_on_a_trail_counts_only_boots_since_this_operation():
    """A trail's guest booted before (its console keeps earlier boots): exactly one boot
    that was not on the console before this operation passes, zero or two fail."""
    assert lifecycle.check_persisted_host(guest(["boot-1", "boot-2", "boot-3"], "boot-3"),
                                          TRAIL_FACTS)["boots_after"] == ["boot-3"]
    assert lifecycle.check_persisted_guest(guest(["boot-1", "boot-2", "boot-3"], "boot-3"),
                                           TRAIL_FACTS)["boot_now"] == "boot-3"
    for boots in (["boot-1", "boot-2"], ["boot-1", "boot-2", "boot-3", "boot-4"]):
        with pytest.raises(LiveCheckFailed, match="boots since the operation"):
            lifecycle.check_persisted_host(guest(boots, "boot-3"), TRAIL_FACTS)


def test_pairs_carry_domain_keys_terminal_and_isolated():
    """Equal keys mean equal domains: a reboot keeps its domain; a watchdog pair whose
    guest check fires is terminal; locked-memory pairs are isolated."""
    pairs = lifecycle.pairs_of("reference")
    reboot = next(p for p in pairs if p.operation == "reboot" and p.feature == "agent")
    assert reboot.before_key == reboot.after_key and len(reboot.before_key) == 64
    assert {p.feature for p in pairs if p.terminal} == {"watchdog"}
    assert all(p.after.watchdog_action and p.after.agent for p in pairs if p.terminal)
    assert {p.feature for p in pairs if p.isolated} == {"locked_memory"}
