"""The level-1 checks are semantic: equivalent XML from another driver passes, and each
contradiction of the expected features is reported by the right check with an excerpt."""

import json
import random

import pytest
from lxml import etree

from conformance.catalogue import Case
from conformance.catalogue.expected import expected_outcome
from conformance.checks import check_xml
from conformance.checks.define import check_define
from conformance.checks.level_xml import judge_xml
from conformance.checks.schema import check_schema
from conformance.contract import Rejected
from conformance.lab.runs import OWNER_NS
from conformance.reference import ReferenceDriver

RICH = Case(id="00000000-0000-4000-8000-00000000c0de", feature="agent", name="rich",
            description="every feature on at once",
            extra_specs={"hw:watchdog_action": "reset", "hw_rng:rate_bytes": "1024",
                         "hw_rng:rate_period": "1000", "hw:pmu": "on", "hw:hide_hypervisor_id": "yes",
                         "hw:locked_memory": "true", "hw:mem_page_size": "small"},
            image_properties={"hw_qemu_guest_agent": "yes"})
PLAIN = Case(id="00000000-0000-4000-8000-00000000beef", feature="agent", name="plain",
             description="nothing set", extra_specs={"hw_rng:allowed": "false"})
DEFAULTS = Case(id="00000000-0000-4000-8000-00000000d00d", feature="rng", name="defaults",
                description="nothing set: RNG on without a rate, no watchdog")
WATCHDOG_NONE = Case(id="00000000-0000-4000-8000-00000000da7a", feature="watchdog", name="none",
                     description="action none", extra_specs={"hw:watchdog_action": "none"})


class XmlDriver:
    """A driver answering with fixed XML (or a fixed rejection)."""
    name = "fixed"

    def __init__(self, xml=None, rejection=None):
        self.xml, self.rejection = xml, rejection

    def build(self, request):
        if self.rejection:
            raise Rejected(*self.rejection)
        return self.xml


def reference_dom(case: Case) -> etree._Element:
    return etree.fromstring(ReferenceDriver().build(case.request()).encode(),
                            etree.XMLParser(remove_blank_text=True))


def findings(case: Case, dom: etree._Element) -> list:
    return check_xml(expected_outcome(case.request()).features, dom, case.request())


def another_drivers_rendering(dom: etree._Element) -> etree._Element:
    """Same meaning, different form: reversed attribute order, shuffled devices and features,
    extra unrelated elements, a different base device set, no agent socket path."""
    for el in dom.iter():
        attrs = list(el.attrib.items())[::-1]
        el.attrib.clear()
        el.attrib.update(attrs)
    devices = dom.find("devices")
    for serial in devices.findall("serial"):
        devices.remove(serial)
    etree.SubElement(devices, "console", type="pty")
    etree.SubElement(devices, "input", type="tablet", bus="usb")
    etree.SubElement(etree.SubElement(devices, "video"), "model", type="vga")
    source = dom.find("devices/channel/source")
    del source.attrib["path"]
    rng = random.Random(7)
    children = list(devices)
    rng.shuffle(children)
    devices[:] = children
    features = dom.find("features")
    features[:] = list(features)[::-1]
    etree.SubElement(features.find("kvm"), "poll-control", state="on")
    return dom


def test_equivalent_xml_passes():
    """Another driver's equivalent XML has no findings and is still a valid libvirt domain."""
    dom = another_drivers_rendering(reference_dom(RICH))
    assert findings(RICH, dom) == []
    assert check_schema(dom) == []
    assert judge_xml(RICH, XmlDriver(etree.tostring(dom, encoding="unicode"))).outcome == "pass"


def test_libvirt_defaults_count_as_equivalent():
    """Omitted attributes with libvirt defaults (watchdog action=reset, rate period=1000) pass."""
    dom = reference_dom(RICH)
    del dom.find("devices/watchdog").attrib["action"]
    del dom.find("devices/rng/rate").attrib["period"]
    assert findings(RICH, dom) == []


def _add(path, tag, **attrs):
    def mutate(dom):
        etree.SubElement(dom.find(path), tag, **attrs)
    return mutate


def _set(path, **attrs):
    def mutate(dom):
        dom.find(path).attrib.update(attrs)
    return mutate


def _remove(path):
    def mutate(dom):
        el = dom.find(path)
        el.getparent().remove(el)
    return mutate


def _agent_channel(dom):
    channel = etree.SubElement(dom.find("devices"), "channel", type="unix")
    etree.SubElement(channel, "target", type="virtio", name="org.qemu.guest_agent.0")


def _rate(dom):
    etree.SubElement(dom.find("devices/rng"), "rate", bytes="10", period="1000")


@pytest.mark.parametrize("case, mutate, check, shows", [
    (RICH, _add("devices", "watchdog", model="i6300esb", action="reset"), "watchdog.count", "watchdog"),
    (RICH, _set("devices/watchdog", action="pause"), "watchdog.action", "pause"),
    (RICH, _set("devices/watchdog", model="ib700"), "watchdog.model", "ib700"),
    (RICH, _remove("devices/watchdog"), "watchdog.count", "0 watchdog"),
    (RICH, _set("devices/watchdog", action="none"), "watchdog.action", "none"),
    (WATCHDOG_NONE, _set("devices/watchdog", action="reset"), "watchdog.action", "reset"),
    (WATCHDOG_NONE, lambda d: d.find("devices/watchdog").attrib.pop("action"), "watchdog.action",
     "reset"),
    (WATCHDOG_NONE, _remove("devices/watchdog"), "watchdog.count", "0 watchdog"),
    (PLAIN, _add("devices", "watchdog", model="i6300esb", action="none"), "watchdog.absent", "i6300esb"),
    (PLAIN, _agent_channel, "agent.absent", "guest_agent"),
    (RICH, _set("devices/channel/target", name="org.qemu.guest_agent"), "agent.channel", "org.qemu.guest_agent"),
    (RICH, _set("devices/channel", type="pty"), "agent.channel", "pty"),
    (RICH, _remove("devices/rng/rate"), "rng.rate", "rng"),
    (DEFAULTS, _rate, "rng.rate", "rate"),
    (RICH, _set("devices/rng/rate", bytes="2048"), "rng.rate", "2048"),
    (RICH, _set("devices/rng/backend", model="egd"), "rng.backend", "egd"),
    (RICH, lambda d: setattr(d.find("devices/rng/backend"), "text", None), "rng.backend", "backend"),
    (RICH, _add("devices", "rng", model="virtio"), "rng.count", "rng"),
    (PLAIN, _add("devices", "rng", model="virtio"), "rng.absent", "rng"),
    (RICH, _set("features/pmu", state="off"), "pmu.state", "off"),
    (RICH, _remove("features/pmu"), "pmu.count", "features"),
    (PLAIN, _add("features", "pmu", state="off"), "pmu.absent", "pmu"),
    (RICH, _set("features/kvm/hidden", state="off"), "hidden.state", "off"),
    (RICH, _remove("features/kvm"), "hidden.count", "features"),
    (PLAIN, lambda d: etree.SubElement(etree.SubElement(d.find("features"), "kvm"), "hidden", state="on"),
     "hidden.absent", "hidden"),
    (RICH, _remove("memoryBacking"), "locked.present", "memory"),
    (PLAIN, lambda d: etree.SubElement(etree.SubElement(d, "memoryBacking"), "locked"), "locked.absent",
     "locked"),
    (RICH, _set(".", type="kvm"), "domain.type", "kvm"),
])
def test_contradiction_is_reported(case, mutate, check, shows):
    """Each contradiction gives a finding from the right check, with the XML excerpt showing it."""
    dom = reference_dom(case)
    mutate(dom)
    found = [f for f in findings(case, dom) if f.check == check]
    assert found, [str(f) for f in findings(case, dom)]
    assert shows in found[0].excerpt + found[0].actual


def test_negative_cases_are_accepted_by_the_reference():
    """The cases the contradictions start from hold what they claim (a guard on the table)."""
    defaults = expected_outcome(DEFAULTS.request()).features
    assert defaults.rng is not None and defaults.rng.rate_bytes is None
    assert defaults.watchdog_action is None
    assert expected_outcome(WATCHDOG_NONE.request()).features.watchdog_action == "none"
    assert findings(DEFAULTS, reference_dom(DEFAULTS)) == []
    assert findings(WATCHDOG_NONE, reference_dom(WATCHDOG_NONE)) == []


def test_hidden_state_off_is_not_hidden_when_not_expected():
    """<kvm><hidden state='off'/> is equivalent to not hiding."""
    dom = reference_dom(PLAIN)
    etree.SubElement(etree.SubElement(dom.find("features"), "kvm"), "hidden", state="off")
    assert findings(PLAIN, dom) == []


def test_windows_hidden_needs_vendor_id():
    """A hidden Windows guest also needs the Hyper-V vendor_id spoof."""
    case = Case(id="00000000-0000-4000-8000-0000000000aa", feature="hidden_hypervisor", name="win",
                description="", extra_specs={"hw:hide_hypervisor_id": "yes"},
                image_properties={"os_type": "windows"})
    dom = reference_dom(case)
    assert findings(case, dom) == []
    vendor = dom.find("features/hyperv/vendor_id")
    vendor.getparent().remove(vendor)
    assert [f.check for f in findings(case, dom)] == ["hidden.vendor_id"]


def test_schema_violation_fails_the_verdict():
    """XML that expresses the features but breaks libvirt's RelaxNG schema fails (the sandbox
    refuses it by its schema rule first, the schema check's finding follows)."""
    dom = reference_dom(RICH)
    dom.find("vcpu").text = "many"
    verdict = judge_xml(RICH, XmlDriver(etree.tostring(dom, encoding="unicode")))
    assert verdict.outcome == "fail"
    assert [f["check"] for f in verdict.evidence["findings"]] == ["sandbox.schema", "schema.relaxng"]
    assert "refused (schema)" in verdict.reason


def test_accepting_what_the_reference_rejects_fails_clearly():
    """Acceptance where the reference rejects: the message names case, expected code and 'accepted'."""
    case = Case(id="00000000-0000-4000-8000-0000000000bb", feature="pmu", name="conflict", description="",
                extra_specs={"hw:pmu": "on"}, image_properties={"hw_pmu": "off"})
    verdict = judge_xml(case, XmlDriver(ReferenceDriver().build(PLAIN.request())))
    assert verdict.outcome == "fail"
    assert verdict.reason.startswith(f"{case.id} pmu/conflict: expected rejection FlavorImageConflict")
    assert verdict.reason.endswith("driver accepted the request")


def test_wrong_rejection_code_fails_clearly():
    """A rejection with another code than the reference's fails, naming both codes."""
    case = Case(id="00000000-0000-4000-8000-0000000000cc", feature="locked_memory", name="forbidden",
                description="", extra_specs={"hw:locked_memory": "true"})
    verdict = judge_xml(case, XmlDriver(rejection=("InvalidExtraSpec", "nope")))
    assert verdict.outcome == "fail"
    assert "expected rejection LockMemoryForbidden" in verdict.reason
    assert "driver rejected with InvalidExtraSpec: nope" in verdict.reason


def test_rejecting_what_the_reference_accepts_fails_clearly():
    """A rejection where the reference accepts fails with 'expected acceptance'."""
    verdict = judge_xml(PLAIN, XmlDriver(rejection=("RngDeviceNotExist", "no rng")))
    assert verdict.outcome == "fail"
    assert "expected acceptance; driver rejected with RngDeviceNotExist: no rng" in verdict.reason


def test_same_rejection_code_passes_whatever_the_message():
    """Only the rejection code is compared; messages may differ between drivers."""
    case = Case(id="00000000-0000-4000-8000-0000000000dd", feature="locked_memory", name="forbidden",
                description="", extra_specs={"hw:locked_memory": "true"})
    assert judge_xml(case, XmlDriver(rejection=("LockMemoryForbidden", "other words"))).outcome == "pass"


def test_verdict_is_json_serialisable():
    """Verdict.to_dict round-trips through JSON, findings included."""
    dom = reference_dom(RICH)
    dom.find("features/pmu").set("state", "off")
    verdict = judge_xml(RICH, XmlDriver(etree.tostring(dom, encoding="unicode")))
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["case_id"] == RICH.id and data["level"] == "xml" and data["outcome"] == "fail"
    assert data["evidence"]["findings"][0]["check"] == "pmu.state"
    assert "expected <pmu state='on'/>" in verdict.reason and "state='off'" in verdict.reason


@pytest.mark.functional
def test_define_catches_what_the_schema_allows(host_lab):
    """defineXML rejects XML the RelaxNG schema accepts (unknown machine type); nothing is left
    defined afterwards."""
    dom = reference_dom(RICH)
    dom.find("os/type").set("machine", "cfm-no-such-machine")
    assert check_schema(dom) == []
    verdict = judge_xml(RICH, XmlDriver(etree.tostring(dom, encoding="unicode")), lab=host_lab)
    assert [f["check"] for f in verdict.evidence["findings"]] == ["libvirt.define"]
    prefix = f"cfm-{host_lab.run.id}-"
    assert not [d for d in host_lab.connected().listAllDomains()
                if d.name().startswith(prefix) and d.name().endswith("-xml")]


@pytest.mark.functional
def test_define_renames_and_marks_the_domain(host_lab):
    """The defined copy is named for the lab's run (cfm-<run>-<n>-xml), has a fresh uuid
    (parallel checks never collide), carries the ownership marker, and is undefined."""
    seen = []
    real = host_lab.connected()

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def defineXML(self, xml):
            seen.append(etree.fromstring(xml.encode()))
            return real.defineXML(xml)

    class SpyLab:
        def __getattr__(self, name):
            return getattr(host_lab, name)

        def define_and_undefine(self, xml, placement):
            return type(host_lab).define_and_undefine(self, xml, placement)

        def define(self, xml, conn=None):
            return type(host_lab).define(self, xml, conn)

        def connected(self):
            return Spy()

    xml = ReferenceDriver().build(RICH.request())
    assert check_define(SpyLab(), xml, RICH.request()) == []
    name = seen[0].findtext("name")
    original = reference_dom(RICH).findtext("uuid")
    assert name.startswith(f"cfm-{host_lab.run.id}-") and seen[0].findtext("uuid") not in (None, original)
    assert seen[0].find(f"metadata/{{{OWNER_NS}}}owner") is not None
    assert name not in [d.name() for d in real.listAllDomains()]
