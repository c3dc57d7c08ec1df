"""Unit tests of the live plan: which cases boot, with what, and what blocks a boot."""

import pytest

from conformance.catalogue import CASES
from conformance.errors import AnswerChanged
from conformance.live import plan, requests
from conformance.reference import ReferenceDriver

UUID = "00000000-0000-4000-8000-00000000f00d"

DOMAIN = ("<domain type='qemu'><name>x</name><os><type>hvm</type></os>"
          "<features>{features}</features>{backing}<devices/></domain>")


def test_live_request_adds_agent_except_for_agent_cases():
    """Non-agent cases get the agent as command channel; agent cases keep their own setting."""
    rng_case = next(c for c in CASES if c.feature == "rng")
    agent_case = next(c for c in CASES if c.feature == "agent")
    assert requests.live_request(rng_case, "qemu").image.properties["hw_qemu_guest_agent"] == "yes"
    assert (dict(requests.live_request(agent_case, "qemu").image.properties)
            == dict(agent_case.image_properties))
    assert requests.live_request(rng_case, "qemu").virt_type == "qemu"


def test_reference_cases_group_into_few_guests():
    """The reference's accepted cases collapse into far fewer guests than cases."""
    live, other = plan.live_cases(ReferenceDriver())
    groups = plan.group(live)
    assert live and other and len(groups) < len(live) / 3
    assert all(n.reason for n in other)


def test_boot_blocker_hyperv_needs_kvm():
    """Hyper-V enlightenments block a TCG boot with a named reason, not a KVM one."""
    xml = DOMAIN.format(features="<hyperv><relaxed state='on'/></hyperv>", backing="")
    assert "Hyper-V enlightenments (relaxed)" in requests.boot_blocker(xml, "qemu", 1 << 28)
    assert requests.boot_blocker(xml, "kvm", 1 << 28) is None
    assert requests.boot_blocker(DOMAIN.format(features="", backing=""), "qemu", 1 << 28) is None


def test_boot_blocker_locked_memory(monkeypatch):
    """<memoryBacking><locked/> asks the measured host limits."""
    xml = DOMAIN.format(features="", backing="<memoryBacking><locked/></memoryBacking>")
    monkeypatch.setattr(requests.locked_memory, "boot_blocker", lambda ram, caps=None: "RLIMIT_MEMLOCK hard limit 8 MiB")
    assert "RLIMIT_MEMLOCK hard limit 8 MiB" in requests.boot_blocker(xml, "qemu", 1 << 28)
    monkeypatch.setattr(requests.locked_memory, "boot_blocker", lambda ram, caps=None: None)
    assert requests.boot_blocker(xml, "qemu", 1 << 28) is None


def test_guest_blockers():
    """pmu and hidden need KVM for the guest level; locked memory has none; others run."""
    assert "accelerator is TCG (why)" in plan.guest_blocker("pmu", "qemu", "why")
    assert plan.guest_blocker("pmu", "kvm") is None
    assert plan.guest_blocker("rng", "qemu") is None
    assert "host level only" in plan.guest_blocker("locked_memory", "kvm")


class KvmDiffers:
    """The reference, except that its KVM domain of a case whose flavor says
    hw_rng:allowed=true gains <pae/>: the same QEMU domain as other RNG cases, another KVM one.
    ``calls`` records (virt type, extra specs) of every request."""
    protocol = 2
    name = "kvm-differs"

    def __init__(self, runtime_only: bool = False):
        self.calls, self.runtime_only, self.grouped = [], runtime_only, False

    def build(self, request):
        self.calls.append((request.virt_type, dict(request.flavor.extra_specs)))
        xml = ReferenceDriver().build(request)
        differs = request.flavor.extra_specs.get("hw_rng:allowed") == "true"
        if request.virt_type == "kvm" and differs and (self.grouped or not self.runtime_only):
            xml = xml.replace("<features>", "<features><pae/>", 1)
        return xml


def rng_group_of(groups, name):
    case = next(c for c in CASES if (c.feature, c.name) == ("rng", name))
    return next(g for g in groups if case.id in g.case_ids())


def test_cases_share_a_guest_only_when_both_virt_types_build_the_same_domain():
    """Grouping asks the driver for every accepted case's domain for each virt type a host may
    use: two cases whose QEMU domains are equal but whose KVM domains differ get two guests,
    so on a KVM host neither is judged on the other's domain."""
    groups = plan.groups(KvmDiffers())
    default_on, allowed = rng_group_of(groups, "default-on"), rng_group_of(groups, "allowed-true")
    assert default_on is not allowed
    # the reference's cases that agree on both virt types still share guests
    reference = plan.groups(ReferenceDriver())
    assert rng_group_of(reference, "default-on") is rng_group_of(reference, "allowed-true")


def test_boot_xml_asks_every_case_of_the_group_for_the_accelerator_used():
    """Every case whose verdict the group's boot covers gets the driver's answer for the
    accelerator actually used (not only the group's first case)."""
    group = rng_group_of(plan.groups(ReferenceDriver()), "default-on")
    assert len(group.cases) > 1
    driver = KvmDiffers(runtime_only=True)  # answers as the reference: nothing differs
    plan.boot_xml(driver, group, "kvm", plan.PLACEHOLDER_BOOT, "instance-x", UUID)
    assert [virt for virt, _ in driver.calls] == ["kvm"] * len(group.cases)


def test_a_case_whose_runtime_answer_differs_is_caught():
    """A driver whose KVM answer for one case of a group differs at boot time from the
    domain the guest boots is caught, naming that case (never judged on another's domain)."""
    driver = KvmDiffers(runtime_only=True)
    group = rng_group_of(plan.groups(driver), "default-on")
    allowed = next(c for c in CASES if (c.feature, c.name) == ("rng", "allowed-true"))
    assert allowed.id in group.case_ids()
    driver.grouped = True
    with pytest.raises(AnswerChanged, match=allowed.id):
        plan.boot_xml(driver, group, "kvm", plan.PLACEHOLDER_BOOT, "instance-x", UUID)
    plan.boot_xml(driver, group, "qemu", plan.PLACEHOLDER_BOOT, "instance-x", UUID)  # same on TCG


def test_boot_blocker_memory_encryption_names_the_missing_sev():
    """A <launchSecurity> domain is never booted where the host has no AMD SEV: the reason
    names kvm_amd's sev parameter and /dev/kvm as measured; it comes before the locked-memory
    reason (SEV guests are locked too)."""
    from dataclasses import replace

    from conformance.host import capabilities
    xml = DOMAIN.format(features="", backing="<memoryBacking><locked/></memoryBacking>"
                        ).replace("<devices/>", "<launchSecurity type='sev'/><devices/>")
    caps = capabilities.HostCapabilities(None, None, "rw", False, "", {}, amd_sev="kvm_amd not loaded")
    reason = requests.boot_blocker(xml, "kvm", 1 << 28, caps)
    assert "the kvm_amd module is not loaded" in reason and capabilities.SEV_PARAMETER in reason
    assert "/dev/kvm is absent" in requests.boot_blocker(xml, "kvm", 1 << 28, replace(
        caps, amd_sev="enabled", kvm_device="absent"))
    assert requests.boot_blocker(xml.replace("<memoryBacking><locked/></memoryBacking>", ""), "kvm",
                             1 << 28, replace(caps, amd_sev="enabled")) is None
    assert requests.may_not_boot(xml.replace("<memoryBacking><locked/></memoryBacking>", ""))


@pytest.mark.parametrize("text, want", [(None, "kvm_amd not loaded"), ("Y\n", "enabled"),
                                        ("1", "enabled"), ("N\n", "disabled"), ("0", "disabled")])
def test_amd_sev_from_the_kernel_parameter(text, want):
    from conformance.host.capabilities import amd_sev
    assert amd_sev(text) == want


def test_protocol_3_cases_are_not_live_yet_and_say_so():
    """A case of a protocol-3 operation the harness does not perform live has no check at
    levels host and guest, with the honest reason (its level-1 check runs): never a silent
    pass; one it performs has live levels."""
    from conformance.catalogue import LIFECYCLE_CASES
    from conformance.contract import PROTOCOL_3_OPERATIONS
    cases = [c for c in LIFECYCLE_CASES if c.operation in PROTOCOL_3_OPERATIONS]
    assert {c.operation for c in cases} == set(PROTOCOL_3_OPERATIONS)
    from conformance.live.operations import live_blocker
    for case in cases:
        reason = live_blocker(case.operation)  # not live yet, or needs a second host
        if reason is None:
            continue
        assert reason.endswith(("live execution is not implemented yet", "this run had one"))
        assert plan.no_check_levels(case) == {"host": reason, "guest": reason}
        assert not plan.reference_boots(case)


def test_protocol_3_cases_of_a_performed_operation_are_live():
    """soft_reboot and clean_stop_start are performed (conformance.live.clean_shutdown):
    their cases get live checks, unless something else than the operation keeps them off."""
    from conformance.catalogue import LIFECYCLE_CASES
    cases = [c for c in LIFECYCLE_CASES if c.operation in ("soft_reboot", "clean_stop_start")]
    assert len(cases) >= 16
    for case in cases:
        assert "not implemented yet" not in str(plan.no_check_levels(case))
