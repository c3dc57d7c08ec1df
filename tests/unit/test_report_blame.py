"""Who a check's outcome blames, decided once for every path (create, lifecycle, the level-1
define check) and shown alike in all four reports: the driver's XML refused by the sandbox
(naming the rule) or by libvirt (its message) is the driver's failure, whether the refusal
happens while a fixture boots the guest (set-up) or in the test; a host limit is a skip with
its reason; a harness fault, a guest that did not come up or a check cut off by
pytest-timeout is an error."""

import threading

import libvirt
import pytest
import subunit
import testtools
from lxml import etree

from conformance.catalogue import CASES
from conformance.report.aggregate import aggregate
from conformance.report.subunit_stream import write_subunit
from conformance.report.writers import write_html, write_json, write_junit
from report_fakes import report_of
from support.collected_run import run_collected

PICKED = CASES[:8]
RULE = "unsafe domain XML refused (uuid)"

SUITE = '''
import pytest
from conformance.catalogue import CASES
from conformance.errors import GuestError, HostCapabilityMissing
from conformance.lab.sandbox import SandboxViolation
from conformance.live import LiveCheckFailed

REFUSED = SandboxViolation("uuid", "<uuid> '11111111-1111-4111-8111-111111111111', requested "
                                   "'00000000-0000-4000-8000-00000000f00d'")


@pytest.fixture
def booted(request):
    """Stands in for a fixture that boots the driver's domain in the set-up phase."""
    if request.node.callspec.params["case"] is CASES[0]:
        raise REFUSED


@pytest.fixture(scope="module")
def shared_guest():
    """Stands in for a group's guest, booted when the first check asks for it."""
    raise REFUSED


@pytest.mark.parametrize("case", CASES[:8], ids=lambda c: c.slug)
def test_case(case, booted, request):
    if case is CASES[1]:
        request.getfixturevalue("shared_guest")
    if case is CASES[2]:
        {}["a harness bug"]
    if case is CASES[3]:
        raise GuestError("cfm-x did not start: QEMU exited")
    if case is CASES[4]:
        raise HostCapabilityMissing("needs RLIMIT_MEMLOCK >= guest RAM or CAP_SYS_RESOURCE")
    if case is CASES[5]:
        raise LiveCheckFailed("watchdog", "host", "action", "reset", "pause")
    if case is CASES[7]:
        pytest.fail("Timeout (>600.0s) from pytest-timeout.")
'''

WANT = ["fail", "fail", "error", "error", "skip", "fail", "pass", "error"]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The fake suite run with the collector, aggregated and written as the four reports."""
    tmp = tmp_path_factory.mktemp("blame")
    _, results = run_collected(tmp, "test_blame_suite.py", SUITE)
    entries = results["entries"]
    report = report_of(aggregate(entries, PICKED, max_level="xml"))
    write_json(report, tmp / "report.json")
    write_junit(report, tmp / "junit.xml")
    write_html(report, tmp / "report.html")
    write_subunit(report, tmp / "report.subunit")
    return report, tmp


def test_each_defect_has_one_status_whenever_it_happens(reports):
    """A sandbox refusal fails the driver in set-up and in the call alike, naming the rule
    with structured evidence; a harness fault (KeyError) and a guest that did not start are
    errors; a host limit is a skip with its reason."""
    report, _ = reports
    got = [case["levels"]["xml"]["status"] for case in report["cases"]]
    assert got == WANT
    for refused in report["cases"][:2]:
        level = refused["levels"]["xml"]
        assert RULE in level["reason"]
        assert level["evidence"]["refused_by"] == "sandbox" and level["evidence"]["rule"] == "uuid"
    assert "KeyError" in report["cases"][2]["levels"]["xml"]["reason"]
    assert "RLIMIT_MEMLOCK" in report["cases"][4]["levels"]["xml"]["reason"]


def test_all_four_reports_show_the_same_statuses(reports):
    """report.json, junit.xml (failure/error/skipped), report.html and report.subunit (tag
    status:<ours>) give each case the same status, the refusal with its rule."""
    report, tmp = reports
    suite = etree.parse(str(tmp / "junit.xml")).getroot()
    junit = {}
    for test in suite.iter("testcase"):
        child = next(iter(test), None)
        junit[test.get("name").rsplit("id-", 1)[1]] = {
            None: "pass", "failure": "fail", "error": "error", "skipped": "skip"}[
            child.tag if child is not None else None]
        if child is not None and child.tag == "failure" and RULE in (child.text or ""):
            junit.setdefault("refused", []).append(test.get("name"))
    assert [junit[c.id] for c in PICKED] == WANT
    assert len(junit["refused"]) == 2
    page = (tmp / "report.html").read_text()
    assert page.count(RULE) >= 2
    found = {}
    result = testtools.StreamToDict(lambda test: found.__setitem__(test["id"], test))
    result.startTestRun()
    with open(tmp / "report.subunit", "rb") as stream:
        subunit.ByteStreamToStreamResult(stream).run(result)
    result.stopTestRun()
    statuses = {test_id.rsplit("id-", 1)[1]: next(t.split(":", 1)[1] for t in test["tags"]
                                                  if t.startswith("status:"))
                for test_id, test in found.items()}
    assert [statuses[c.id] for c in PICKED] == WANT
    assert RULE in b"".join(found[next(i for i in found if PICKED[0].id in i)]["details"]["reason"]
                           .iter_bytes()).decode()


class FakeConn:
    def __init__(self, alive: bool):
        self.alive = alive

    def isAlive(self):
        return 1 if self.alive else 0

    def defineXML(self, xml):
        raise libvirt.libvirtError("XML error: UUID mismatch between <uuid> and <sysinfo>")


def lab_on(conn):
    from conformance.lab.lab import Lab
    lab = Lab.__new__(Lab)
    lab.uri, lab.conn, lab.unreachable = "qemu:///fake", conn, None
    lab.reconnects, lab._connect_lock = 0, threading.RLock()
    return lab


def test_libvirt_refusing_the_drivers_domain_is_a_named_refusal():
    """defineXML refusing the driver's XML on a live connection raises DomainRefused with
    libvirt's message (the driver's failure, like a sandbox rule)."""
    from conformance.errors import DomainRefused
    with pytest.raises(DomainRefused, match="UUID mismatch between <uuid> and <sysinfo>"):
        lab_on(FakeConn(alive=True)).define("<domain/>")
