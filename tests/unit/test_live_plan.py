"""Unit tests of the live plan: which cases boot, with what, and what blocks a boot."""

from conformance.catalogue import CASES
from conformance.live import plan
from conformance.reference import ReferenceDriver

DOMAIN = ("<domain type='qemu'><name>x</name><os><type>hvm</type></os>"
          "<features>{features}</features>{backing}<devices/></domain>")


def test_live_request_adds_agent_except_for_agent_cases():
    """Non-agent cases get the agent as command channel; agent cases keep their own setting."""
    rng_case = next(c for c in CASES if c.feature == "rng")
    agent_case = next(c for c in CASES if c.feature == "agent")
    assert plan.live_request(rng_case, "qemu").image.properties["hw_qemu_guest_agent"] == "yes"
    assert (dict(plan.live_request(agent_case, "qemu").image.properties)
            == dict(agent_case.image_properties))
    assert plan.live_request(rng_case, "qemu").virt_type == "qemu"


def test_reference_cases_group_into_few_guests():
    """The reference's accepted cases collapse into far fewer guests than cases."""
    live, other = plan.live_cases(ReferenceDriver())
    groups = plan.group(live)
    assert live and other and len(groups) < len(live) / 3
    assert all(n.reason for n in other)


def test_boot_blocker_hyperv_needs_kvm():
    """Hyper-V enlightenments block a TCG boot with a named reason, not a KVM one."""
    xml = DOMAIN.format(features="<hyperv><relaxed state='on'/></hyperv>", backing="")
    assert "Hyper-V enlightenments (relaxed)" in plan.boot_blocker(xml, "qemu", 1 << 28)
    assert plan.boot_blocker(xml, "kvm", 1 << 28) is None
    assert plan.boot_blocker(DOMAIN.format(features="", backing=""), "qemu", 1 << 28) is None


def test_boot_blocker_locked_memory(monkeypatch):
    """<memoryBacking><locked/> asks the measured host limits."""
    xml = DOMAIN.format(features="", backing="<memoryBacking><locked/></memoryBacking>")
    monkeypatch.setattr(plan.locked_memory, "boot_blocker", lambda ram, caps=None: "RLIMIT_MEMLOCK hard limit 8 MiB")
    assert "RLIMIT_MEMLOCK hard limit 8 MiB" in plan.boot_blocker(xml, "qemu", 1 << 28)
    monkeypatch.setattr(plan.locked_memory, "boot_blocker", lambda ram, caps=None: None)
    assert plan.boot_blocker(xml, "qemu", 1 << 28) is None


def test_guest_blockers():
    """pmu and hidden need KVM for the guest level; locked memory has none; others run."""
    assert "accelerator is TCG (why)" in plan.guest_blocker("pmu", "qemu", "why")
    assert plan.guest_blocker("pmu", "kvm") is None
    assert plan.guest_blocker("rng", "qemu") is None
    assert "host level only" in plan.guest_blocker("locked_memory", "kvm")
