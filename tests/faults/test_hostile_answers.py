"""Hostile answers end to end on real libvirt (tests/broken_drivers/_hostile.py, ~50 answers).

Each answer, from an exec driver (one-shot and stream) and from an in-process Python
driver, ends in a SandboxViolation naming its rule before libvirt sees anything; the
level-1 define check refuses it by the same rule; nothing is defined on the host; the
canary files keep their existence, content, owner and mode, and the canary script never
runs. A certification of many answers at once (one per case) is not certified and names
each case's rule in report.json, junit.xml, report.html and the subunit stream; so does a
host-level certification, whose live boot is refused too.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest
import subunit
import testtools
from lxml import etree, html

from broken_drivers._hostile import ANSWERS, HostileDriver, signature
from conformance.catalogue import CASES
from conformance.catalogue.expected import expected_outcome
from conformance.checks.level_xml import judge_xml
from conformance.contract import Accepted, Image, Request
from conformance.drivers.exec import ExecDriver
from conformance.drivers.exec_stream import StreamDriver
from conformance.drivers.run import run_driver
from conformance.errors import DriverFault, SandboxViolation
from conformance.lab.cleanup import owned_domains
from faults.canary import Canaries

pytestmark = pytest.mark.functional
libvirt = pytest.importorskip("libvirt")

SCRIPT = Path(__file__).resolve().parents[1] / "broken_drivers" / "exec_hostile.py"
REFUSED = [a for a in ANSWERS if not a.doctype]
ACCEPTED_CASES = [c for c in CASES if expected_outcome(c.request()).accepted]
CASE = next(c for c in ACCEPTED_CASES if c.feature == "watchdog")


@pytest.fixture
def canaries():
    with Canaries() as made:
        yield made


def make_driver(mode: str, answer: str, canary_dir: Path):
    if mode == "python":
        return HostileDriver(answer, str(canary_dir))
    kind = ExecDriver if mode == "exec" else StreamDriver
    return kind([sys.executable, str(SCRIPT), answer, str(canary_dir)], timeout=30)


def domains_naming(conn, text: str) -> list[str]:
    """Domains on the host whose XML mentions ``text`` (one vanishing meanwhile: skipped)."""
    found = []
    for domain in conn.listAllDomains(0):
        try:
            if text in domain.XMLDesc(0):
                found.append(domain.name())
        except libvirt.libvirtError:
            pass
    return found


def assert_host_untouched(lab, canaries: Canaries, before: set[str]) -> None:
    conn = lab.connected()
    assert {d.name() for d, _o in owned_domains(conn, run_id=lab.run.id)} == before
    assert domains_naming(conn, str(canaries.dir)) == []
    canaries.assert_untouched()


@pytest.mark.parametrize("mode", ["exec", "exec-stream", "python"])
@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: a.name)
def test_hostile_answer_is_refused_before_libvirt(answer, mode, host_lab, canaries):
    """Run the driver, then the lab's start: SandboxViolation(answer.rule) and no trace on
    the host (an entity-laden answer is refused by the driver output parser first, and by
    the sandbox when handed to it directly)."""
    request = Request(virt_type="qemu", instance_name=f"instance-{uuid.uuid4().hex[:8]}",
                      instance_uuid=str(uuid.uuid4()),
                      image=Image(properties={"hw_qemu_guest_agent": "yes"}))
    driver = make_driver(mode, answer.name, canaries.dir)
    before = {d.name() for d, _o in owned_domains(host_lab.connected(), run_id=host_lab.run.id)}
    try:
        if answer.doctype:
            with pytest.raises(DriverFault, match="unsafe"):
                run_driver(driver, request)
            xml = driver.build(request)
        else:
            outcome = run_driver(driver, request)
            assert isinstance(outcome, Accepted)
            xml = outcome.xml
    finally:
        getattr(driver, "close", lambda: None)()
    placement = host_lab.placement(request.boot, slug="hostile", instance_name=request.instance_name)
    with pytest.raises(SandboxViolation) as refused:
        host_lab.start(xml, placement)
    assert refused.value.rule == answer.rule, str(refused.value)
    assert f"({answer.rule})" in str(refused.value)
    assert_host_untouched(host_lab, canaries, before)


@pytest.mark.parametrize("answer", REFUSED, ids=lambda a: a.name)
def test_define_check_refuses_the_hostile_answer(answer, host_lab, canaries):
    """The level-1 define check of a case answered hostilely fails the case with the
    sandbox's refusal as its reason (finding sandbox.<rule> first); libvirt saw nothing."""
    before = {d.name() for d, _o in owned_domains(host_lab.connected(), run_id=host_lab.run.id)}
    verdict = judge_xml(CASE, HostileDriver(answer.name, str(canaries.dir)), lab=host_lab)
    assert verdict.outcome == "fail"
    assert verdict.evidence["findings"][0]["check"] == f"sandbox.{answer.rule}"
    assert f"unsafe domain XML refused ({answer.rule})" in verdict.reason
    assert_host_untouched(host_lab, canaries, before)


# -- certifications ----------------------------------------------------------------------
def read_subunit(path: Path) -> dict[str, str]:
    """test id -> its reason/error attachment text."""
    found = {}

    def record(test):
        details = test["details"]
        part = details.get("reason") or details.get("error")
        found[test["id"]] = part.as_text() if part is not None else ""

    result = testtools.StreamToDict(record)
    result.startTestRun()
    with open(path, "rb") as stream:
        subunit.ByteStreamToStreamResult(stream).run(result)
    result.stopTestRun()
    return found


def reasons_in_reports(out: Path, case_id: str, level: str) -> dict[str, str]:
    """The reason a case's ``level`` has in each of the four reports."""
    report = json.loads((out / "report.json").read_text())
    case = next(c for c in report["cases"] if c["id"] == case_id)
    name = f"{case['name']}[{level}] id-{case_id}"
    junit = etree.parse(str(out / "junit.xml")).getroot()
    test = next(t for t in junit.iter("testcase") if t.get("name") == name)
    outcome = test.find("failure") if test.find("failure") is not None else test.find("error")
    page = html.fromstring((out / "report.html").read_text())
    heading = next(h for h in page.iter("h3") if case_id in h.text_content())
    section = []
    for sibling in heading.itersiblings():
        if sibling.tag in ("h2", "h3"):
            break
        section.append(sibling.text_content())
    stream = read_subunit(out / "report.subunit")
    return {"report.json": case["levels"][level]["reason"],
            "junit.xml": "" if outcome is None else (outcome.text or ""),
            "report.html": "\n".join(section),
            "report.subunit": stream.get(f"{case['feature']}.{name}", "")}


def assert_refused_in_every_report(out: Path, case_id: str, level: str, rule: str) -> None:
    report = json.loads((out / "report.json").read_text())
    case = next(c for c in report["cases"] if c["id"] == case_id)
    assert case["verdict"] in ("fail", "error"), case
    assert case["levels"][level]["status"] in ("fail", "error"), case["levels"][level]
    for where, reason in reasons_in_reports(out, case_id, level).items():
        assert f"refused ({rule})" in reason, f"{where} of {case_id} [{level}]: {reason[:800]}"


@pytest.mark.slow
def test_certification_of_hostile_answers_names_each_rule(certify, canaries, tmp_path):
    """One answer per case (each a different request), certified at level xml: not
    certified; every mapped case fails with its rule in all four reports; the host keeps
    nothing and the canaries are untouched."""
    cases = {}
    for case in ACCEPTED_CASES:
        key = signature(case.request())
        if key not in {signature(c.request()) for c in cases.values()} and len(cases) < len(REFUSED):
            cases[REFUSED[len(cases)].name] = case
    assert len(cases) == len(REFUSED), "not enough distinct accepted cases for every answer"
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({signature(c.request()): name for name, c in cases.items()}))
    driver = f"exec:{sys.executable} {SCRIPT} --map {mapping} {canaries.dir}"
    run = certify("--driver", driver, "--level", "xml",
                  *[arg for c in cases.values() for arg in ("--case", c.id)])
    assert run.finish(600) == 1, run.output()
    report = run.report()
    assert report["certification"]["verdict"] != "certified", report["certification"]["headline"]
    assert not report["summary"]["headline"].startswith("CERTIFIED")
    rules = {a.name: a.rule for a in REFUSED}
    for name, case in cases.items():
        assert_refused_in_every_report(run.out, case.id, "xml", rules[name])
    assert domains_naming(run.conn, str(canaries.dir)) == []
    canaries.assert_untouched()


@pytest.mark.slow
def test_host_level_certification_refuses_the_live_boot_by_rule(certify, canaries):
    """The issue's first finding: a second <devices> with a serial file made QEMU create it.
    Certified at level host (one case), the live boot is refused by the schema rule too: the
    file never appears, the case fails with the rule at levels xml and host in all four
    reports."""
    case = next(c for c in ACCEPTED_CASES if c.feature == "watchdog")
    driver = f"exec2:{sys.executable} {SCRIPT} second-devices-serial-file {canaries.dir}"
    run = certify("--driver", driver, "--level", "host", "--case", case.id)
    assert run.finish(600) == 1, run.output()
    report = run.report()
    assert report["certification"]["verdict"] != "certified"
    assert not report["summary"]["headline"].startswith("CERTIFIED")
    assert_refused_in_every_report(run.out, case.id, "xml", "schema")
    assert_refused_in_every_report(run.out, case.id, "host", "schema")
    assert domains_naming(run.conn, str(canaries.dir)) == []
    canaries.assert_untouched()


def test_the_canaries_notice_an_escape(lab, guest_image, canaries):
    """The canary check can fail: XML handed to libvirt directly (what the sandbox exists to
    prevent) with a serial file on ``created`` makes QEMU create it, and one naming the
    canary script as <emulator> makes libvirtd run it; both show in ``changes()``."""
    from conformance.lab.teardown import remove_domain
    conn = lab.connected()
    owner = etree.tostring(lab.run.owner.element(), encoding="unicode")

    def raw(name: str, devices: str) -> str:
        return (f"<domain type='qemu'><name>{lab.run.domain_name(name)}</name>"
                f"<metadata>{owner}</metadata><memory unit='MiB'>64</memory>"
                f"<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{guest_image.kernel}"
                f"</kernel></os><devices>{devices}<memballoon model='none'/></devices></domain>")

    domain = conn.defineXML(raw("canary-serial", f"<serial type='file'><source path="
                                                 f"'{canaries.created}'/></serial>"))
    try:
        domain.create()
    finally:
        remove_domain(domain, lab.host)
    with pytest.raises(libvirt.libvirtError):
        remove_domain(conn.defineXML(raw("canary-emulator", f"<emulator>{canaries.script}"
                                                            "</emulator>")), lab.host)
    changes = "\n".join(canaries.changes())
    assert f"{canaries.created}: None ->" in changes
    assert "the canary script ran" in changes
