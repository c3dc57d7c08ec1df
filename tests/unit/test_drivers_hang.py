"""A driver that times out several requests in a row is declared hung: named once, and its
later requests error at once instead of each waiting out the deadline (3 h for a catalogue
at 30 s per request). In-process (module:attr) drivers are bounded by the same deadline."""

import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from conformance.contract import Request
from conformance.drivers import hang, run_driver
from conformance.drivers.exec import ExecDriver
from conformance.errors import DriverFault, DriverHung
from conformance.reference import ReferenceDriver

HANG_SCRIPT = Path(__file__).resolve().parents[1] / "broken_drivers" / "exec_hang.py"


def request() -> Request:
    return Request(virt_type="qemu", instance_name="instance-1", instance_uuid=str(uuid.uuid4()))


class Sleeper:
    """A module:attr driver whose build() never returns (until released)."""
    name = "sleeper"

    def __init__(self):
        self.release = threading.Event()
        self.calls = 0

    def build(self, req):
        self.calls += 1
        self.release.wait(60)
        return ReferenceDriver().build(req)


class Sometimes(Sleeper):
    """Hangs, except on the requests whose numbers are in ``answers``."""

    def __init__(self, answers):
        super().__init__()
        self.answers = answers

    def build(self, req):
        if self.calls + 1 in self.answers:
            self.calls += 1
            return ReferenceDriver().build(req)
        return super().build(req)


def test_a_hung_exec_driver_is_declared_hung_and_later_requests_error_at_once():
    """HUNG_AFTER timeouts in a row (each a DriverFault 'timeout' of the driver): the last of
    them declares the driver hung; every later request raises DriverHung at once, naming the
    driver, the timeouts and the deadline, and starts no process."""
    driver = ExecDriver([sys.executable, str(HANG_SCRIPT)], timeout=0.5)
    faults = []
    for _ in range(hang.HUNG_AFTER):
        with pytest.raises((DriverFault, DriverHung)) as caught:
            run_driver(driver, request())
        faults.append(caught.value)
    assert all(isinstance(f, DriverFault) and f.kind == "timeout" for f in faults[:-1])
    assert isinstance(faults[-1], DriverHung)
    started = time.monotonic()
    with pytest.raises(DriverHung) as later:
        run_driver(driver, request())
    assert time.monotonic() - started < driver.timeout  # not waited out: no process started
    message = str(later.value)
    assert driver.name in message and f"{hang.HUNG_AFTER} requests in a row" in message
    assert "0.5 s" in message and str(later.value) == str(faults[-1])


def test_a_hanging_in_process_driver_is_bounded_and_declared_hung():
    """A module:attr driver's build() that never returns is bounded by the deadline (it runs
    in a thread; Python cannot stop it, the harness stops waiting), then declared hung."""
    driver = Sleeper()
    hang.watch(driver, timeout=0.3)
    try:
        with pytest.raises(DriverFault, match=r"timeout.*0\.3 s"):
            run_driver(driver, request())
        for _ in range(hang.HUNG_AFTER - 1):
            with pytest.raises((DriverFault, DriverHung)):
                run_driver(driver, request())
        with pytest.raises(DriverHung, match="sleeper"):
            run_driver(driver, request())
        assert driver.calls == hang.HUNG_AFTER
    finally:
        driver.release.set()


def test_an_answer_in_between_resets_the_count():
    """Timeouts that are not in a row (the driver answered between them) declare nothing."""
    driver = Sometimes(answers={hang.HUNG_AFTER})
    hang.watch(driver, timeout=0.2)
    try:
        outcomes = []
        for _ in range(2 * hang.HUNG_AFTER - 1):
            try:
                run_driver(driver, request())
                outcomes.append("answer")
            except DriverFault as fault:
                outcomes.append(fault.kind)
        assert outcomes.count("answer") == 1 and set(outcomes) == {"answer", "timeout"}
    finally:
        driver.release.set()


def test_workers_share_the_declaration(tmp_path):
    """xdist workers each hold their own instance of the judged driver: once one declared it
    hung (a file shared by the session), the others' requests error at once too."""
    shared = tmp_path / "hung.json"
    first, second = Sleeper(), Sleeper()
    second.name = first.name
    hang.watch(first, timeout=0.2, shared=shared)
    hang.watch(second, timeout=0.2, shared=shared)
    try:
        for _ in range(hang.HUNG_AFTER):
            with pytest.raises((DriverFault, DriverHung)):
                run_driver(first, request())
        with pytest.raises(DriverHung, match=f"{hang.HUNG_AFTER} requests in a row"):
            run_driver(second, request())
        assert second.calls == 0
    finally:
        first.release.set()


HUNG_SUITE = '''
import pytest
from conformance.catalogue import CASES
from conformance.checks.level_xml import judge_xml
from conformance.errors import DriverHung


class Hung:
    name = "exec:/opt/hung-driver"

    def build(self, request):
        raise DriverHung("driver 'exec:/opt/hung-driver' is hung: 3 requests in a row got no answer within 30 s each")


@pytest.mark.parametrize("case", CASES[:2], ids=lambda c: c.slug)
def test_case(case):
    verdict = judge_xml(case, Hung())
    assert verdict.outcome == "pass", verdict.reason
'''


def test_a_hung_driver_is_an_error_of_every_case_not_a_failure(tmp_path):
    """judge_xml does not judge a hung driver (DriverHung passes through it) and the report
    records the item as a harness error naming the hang, not as the driver failing."""
    from conformance.report.aggregate import aggregate
    from conformance.catalogue import CASES
    from support.collected_run import run_collected
    done, results = run_collected(tmp_path, "test_hung.py", HUNG_SUITE)
    entries = results["entries"]
    assert len(entries) == 2 and all(e["harness_error"] == "DriverHung" for e in entries), done.stdout
    verdicts = aggregate(entries, CASES[:2], {c.id: {"host": "-", "guest": "-"} for c in CASES[:2]})
    assert [v["verdict"] for v in verdicts] == ["error", "error"]
    assert all("is hung" in v["reason"] for v in verdicts)
