"""Hostile memory-encrypted answers: the firmware and launch security of a SEV domain (never
defined on a host) are checked against their narrow allow list before the rest of the domain
goes through the sandbox; anything naming a host file outside the packaged firmware, an
nvram file of its own or a launch-security path is refused by its rule."""

import pytest
from lxml import etree

from conformance.catalogue import by_id
from conformance.checks.level_xml import judge_xml
from conformance.errors import SandboxViolation
from conformance.lab.encrypted import split
from conformance.reference import ReferenceDriver

SEV_CASE = "b60ad2d8-54ec-49dd-aa7b-278caad3752d"  # locked_memory/sev-implies-locked
GOOD_OS = ("<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type>"
           "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
           "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/></os>")
GOOD_SEV = "<launchSecurity type='sev'><policy>0x0033</policy></launchSecurity>"


def domain(os_xml: str = GOOD_OS, security: str = GOOD_SEV) -> etree._Element:
    return etree.fromstring(f"<domain type='kvm'><name>x</name>{os_xml}{security}</domain>")


HOSTILE = {
    "loader-host-file": (GOOD_OS.replace("/usr/share/OVMF/OVMF_CODE_4M.fd", "/etc/shadow"),
                         GOOD_SEV, "firmware"),
    "loader-traversal": (GOOD_OS.replace("OVMF_CODE_4M.fd", "../../../etc/shadow"), GOOD_SEV,
                         "firmware"),
    "loader-writable": (GOOD_OS.replace("readonly='yes'", "readonly='no'"), GOOD_SEV, "firmware"),
    "nvram-own-file": (GOOD_OS.replace("<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>",
                                       "<nvram>/var/tmp/cfm-canary/vars.fd</nvram>"), GOOD_SEV,
                       "firmware"),
    "nvram-template-host-file": (GOOD_OS.replace("/usr/share/OVMF/OVMF_VARS_4M.fd",
                                                 "/root/.ssh/id_rsa"), GOOD_SEV, "firmware"),
    "nvram-source-file": (GOOD_OS.replace("<nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'/>",
                                          "<nvram type='file'><source file='/tmp/x'/></nvram>"),
                          GOOD_SEV, "firmware"),
    "firmware-bios": (GOOD_OS.replace("firmware='efi'", "firmware='bios'"), GOOD_SEV, "firmware"),
    "launch-security-tdx": (GOOD_OS, "<launchSecurity type='tdx'/>", "launch-security"),
    "launch-security-path": (GOOD_OS, "<launchSecurity type='sev'><dhCert>/etc/shadow</dhCert>"
                                      "</launchSecurity>", "launch-security"),
    "launch-security-unknown-child": (GOOD_OS, "<launchSecurity type='sev'><x/></launchSecurity>",
                                      "launch-security"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_firmware_and_launch_security_are_refused(name):
    os_xml, security, rule = HOSTILE[name]
    with pytest.raises(SandboxViolation) as err:
        split(domain(os_xml, security))
    assert err.value.rule == rule


def test_packaged_firmware_and_sev_pass_and_are_taken_out():
    rest = split(domain())
    assert rest.find("launchSecurity") is None and rest.find("os/loader") is None
    assert rest.find("os").get("firmware") is None


class _Hostile:
    """The reference's SEV answer with a loader naming a host file."""

    def build(self, request):
        dom = etree.fromstring(ReferenceDriver().build(request))
        os_el = dom.find("os")
        for loader in os_el.findall("loader"):
            os_el.remove(loader)
        etree.SubElement(os_el, "loader", readonly="yes", type="pflash").text = "/etc/shadow"
        return etree.tostring(dom, encoding="unicode")


def test_a_hostile_sev_answer_fails_the_case_at_level_xml():
    verdict = judge_xml(by_id(SEV_CASE), _Hostile())
    assert verdict.outcome == "fail" and "firmware" in verdict.reason


def test_the_reference_sev_answer_passes():
    assert judge_xml(by_id(SEV_CASE), ReferenceDriver()).passed


class _WithLoader:
    """The reference's answer plus Nova's UEFI loader (packaged firmware, read-only)."""

    def build(self, request):
        dom = etree.fromstring(ReferenceDriver().build(request))
        os_el = dom.find("os")
        etree.SubElement(os_el, "loader", readonly="yes", type="pflash").text = \
            "/usr/share/OVMF/OVMF_CODE_4M.fd"
        return etree.tostring(dom, encoding="unicode")


def test_uefi_image_without_encryption_is_judged_like_sev():
    """An image asking hw_firmware_type=uefi without memory encryption: Nova's loader passes
    (never defined, the firmware allow list); the define level is not applicable."""
    case = by_id("2f1902df-e442-4121-992d-ac0fdc285f9a")  # locked_memory/sev-flavor-false
    verdict = judge_xml(case, _WithLoader())
    assert verdict.passed, verdict.reason
    assert verdict.evidence["define"].startswith("not applicable: a UEFI domain")


def test_a_loader_where_no_uefi_was_asked_fails():
    """Elsewhere a <loader> is the sandbox's refusal, and the driver's failure."""
    case = by_id("8f74256d-1600-4307-abe4-2db38d9e3b6a")  # locked_memory/realtime-implies-locked
    verdict = judge_xml(case, _WithLoader())
    assert verdict.outcome == "fail" and "unsafe domain XML refused" in verdict.reason


def test_uefi_domains_are_not_booted():
    from conformance.live import requests
    xml = _WithLoader().build(by_id("2f1902df-e442-4121-992d-ac0fdc285f9a").request())
    assert "UEFI firmware" in requests.boot_blocker(xml, "qemu", 1 << 28)
    assert requests.may_not_boot(xml)
