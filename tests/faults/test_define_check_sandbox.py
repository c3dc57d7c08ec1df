"""The level-1 define check hands a real libvirt host only the sandboxed, canonical XML,
owned by the run (real libvirt): never the driver's raw text."""

from __future__ import annotations

import pytest
from lxml import etree

from conformance.catalogue import CASES
from conformance.checks.level_xml import judge_xml
from conformance.lab.cleanup import owned_domains
from conformance.lab.runs import OWNER_NS
from conformance.reference import ReferenceDriver
from faults.canary import Canaries

pytestmark = pytest.mark.functional
libvirt = pytest.importorskip("libvirt")

CASE = next(c for c in CASES if c.feature == "watchdog" and not c.expect_rejection)


class FixedXml:
    name = "fixed"

    def __init__(self, xml: str):
        self.xml = xml

    def build(self, request):
        return self.xml


@pytest.fixture
def canaries():
    with Canaries() as made:
        yield made


def with_emulator(path) -> str:
    dom = etree.fromstring(ReferenceDriver().build(CASE.request()).encode())
    etree.SubElement(dom.find("devices"), "emulator").text = str(path)
    return etree.tostring(dom, encoding="unicode")


def every_domain_xml(conn) -> list[str]:
    found = []
    for domain in conn.listAllDomains(0):
        try:
            found.append(domain.XMLDesc(0))
        except libvirt.libvirtError:
            pass  # another worker's guest, gone meanwhile
    return found


def test_define_check_never_lets_libvirtd_run_a_drivers_emulator(host_lab, canaries):
    """A driver naming a script as <emulator>: libvirtd would run it to probe its
    capabilities. The define check refuses it by sandbox rule first; the script never ran,
    nothing is defined, the reason names the rule."""
    verdict = judge_xml(CASE, FixedXml(with_emulator(canaries.script)), lab=host_lab)
    assert verdict.outcome == "fail"
    assert [f["check"] for f in verdict.evidence["findings"]] == ["sandbox.emulator"]
    assert "(emulator)" in verdict.reason
    canaries.assert_untouched()
    assert not [x for x in every_domain_xml(host_lab.connected()) if str(canaries.dir) in x]


def test_define_check_defines_the_runs_canonical_xml(host_lab, monkeypatch):
    """What reaches defineXML is libvirt's canonical reading (memory in KiB) named and
    marked for this run (its cleanup finds it); it is undefined again at once."""
    seen = []
    real = host_lab.connected()

    class Spy:
        def __getattr__(self, name):
            return getattr(real, name)

        def defineXML(self, xml):
            seen.append(etree.fromstring(xml.encode()))
            return real.defineXML(xml)

    monkeypatch.setattr(host_lab, "connected", lambda: Spy())
    verdict = judge_xml(CASE, ReferenceDriver(), lab=host_lab)
    assert verdict.outcome == "pass", verdict.reason
    [defined] = seen
    assert defined.findtext("name").startswith(f"cfm-{host_lab.run.id}-")
    assert defined.find(f"metadata/{{{OWNER_NS}}}owner").get("run") == host_lab.run.id
    assert defined.find("memory").get("unit") == "KiB"
    monkeypatch.undo()
    names = {d.name() for d, _o in owned_domains(host_lab.connected(), run_id=host_lab.run.id)}
    assert defined.findtext("name") not in names
