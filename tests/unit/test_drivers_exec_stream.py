"""The exec-stream protocol: StreamDriver (client) against driver-exec (server) and against a
hand-written stream driver that misbehaves on request (tests/broken_drivers/stream_moody.py)."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from lxml import etree

from conformance.catalogue import LIFECYCLE_CASES
from conformance.contract import Flavor, Rejected, Request, validate
from conformance.drivers import load_driver, run_driver
from conformance.drivers.exec_stream import StreamDriver
from conformance.drivers.exec_stream_wire import HELLO, MAX_LINE
from conformance.errors import DriverFault, DriverLoadError, RequestInvalid
from conformance.reference import ReferenceDriver
from conformance.waiters import wait_until

TESTS = Path(__file__).resolve().parents[1]
BROKEN = TESTS / "broken_drivers"
SERVER = [sys.executable, "-m", "conformance.cli", "driver-exec"]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}


def moody(*args, timeout: float = 5) -> StreamDriver:
    return StreamDriver([sys.executable, str(BROKEN / "stream_moody.py"), *map(str, args)], timeout=timeout)


def asking(mood: str) -> Request:
    return Request(instance_name=f"instance-{mood}")


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def closing():
    """Collects drivers and closes them after the test."""
    drivers = []
    yield drivers.append
    for driver in drivers:
        driver.close()


def canonical(xml: str) -> bytes:
    return etree.tostring(etree.fromstring(xml.encode()), method="c14n")


# --- the spec ----------------------------------------------------------------------

def test_spec_loads_a_stream_driver_without_starting_it():
    """'exec-stream:COMMAND' is a StreamDriver with exec_timeout; no process before the first
    request; 'exec:' stays one-shot."""
    driver = load_driver("exec-stream:" + " ".join(SERVER + ["reference"]), exec_timeout=7)
    assert isinstance(driver, StreamDriver) and driver.timeout == 7 and driver.pid is None
    assert driver.name.startswith("exec-stream:") and "driver-exec reference" in driver.name
    assert not isinstance(load_driver("exec:" + " ".join(SERVER + ["reference"])), StreamDriver)


@pytest.mark.parametrize("spec, message", [
    ("exec-stream:", "exec-stream driver spec has no command"),
    ("exec-stream:/nonexistent/driver", "exec-stream driver command not found: /nonexistent/driver"),
    ("exec-stream:'unbalanced", "cannot parse exec-stream command"),
])
def test_bad_stream_specs_fail_at_load(spec, message):
    """An unusable exec-stream spec is a one-line DriverLoadError, as for exec:."""
    with pytest.raises(DriverLoadError, match=message):
        load_driver(spec)


# --- driver-exec in stream mode -----------------------------------------------------

def test_reference_over_the_stream_matches_in_process(closing):
    """One driver-exec process answers many requests (XML and rejections) like in-process."""
    driver = load_driver("exec-stream:" + " ".join(SERVER + ["reference"]))
    closing(driver)
    requests = [Request(flavor=Flavor(extra_specs={"hw:watchdog_action": action}))
                for action in ("pause", "reset", "poweroff")]
    pids = set()
    for request in requests:
        assert canonical(run_driver(driver, request).xml) == canonical(ReferenceDriver().build(request))
        pids.add(driver.pid)
    with pytest.raises(Rejected) as exc:
        driver.build(Request(flavor=Flavor(extra_specs={"hw:locked_memory": "true"})))
    assert exc.value.rejection.code == "LockMemoryForbidden"
    assert pids == {driver.pid} and driver.pid is not None


def test_server_hello_and_envelopes_are_schema_valid():
    """driver-exec answers the hello with the hello, then one schema-valid reply per line,
    each with the request's id; an invalid request line is a fault reply, not an exit."""
    lines = [HELLO, {"id": 7, "request": Request().to_dict()},
             {"id": 8, "request": {**Request().to_dict(), "virt_type": "xen"}},
             {"id": 9, "request": Request(flavor=Flavor(extra_specs={"hw:locked_memory": "true"})).to_dict()}]
    done = subprocess.run(SERVER + ["reference"], input="".join(json.dumps(m) + "\n" for m in lines),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    hello, *replies = [json.loads(line) for line in done.stdout.splitlines()]
    validate("stream-hello", hello)
    for reply in replies:
        validate("stream-reply", reply)
    assert [r["id"] for r in replies] == [7, 8, 9]
    assert etree.fromstring(replies[0]["xml"].encode()).tag == "domain"
    assert "request invalid at virt_type" in replies[1]["fault"]
    assert replies[2]["rejection"]["error"] == "LockMemoryForbidden"


def test_served_driver_exception_is_a_crash_fault_and_the_stream_goes_on(closing):
    """A served driver raising is a crash fault for that request; the same process serves on."""
    driver = StreamDriver(["env", f"PYTHONPATH={TESTS}", *SERVER, "broken_drivers.crashing:driver"])
    closing(driver)
    with pytest.raises(DriverFault) as exc:
        run_driver(driver, Request(flavor=Flavor(extra_specs={"hw:watchdog_action": "reset"})))
    assert exc.value.kind == "crash" and "KeyError: 'watchdog_model'" in exc.value.detail
    pid = driver.pid
    assert run_driver(driver, Request()).xml and driver.pid == pid


def test_server_bad_driver_spec_is_reported_before_the_hello(closing):
    """An unloadable spec in stream mode: the process exits 3 before the hello, the fault
    quotes the load error."""
    driver = StreamDriver(SERVER + ["cfm_no_such_module_xyz:driver"])
    closing(driver)
    with pytest.raises(DriverFault) as exc:
        driver.build(Request())
    assert exc.value.kind == "exit-code" and "exit code 3" in exc.value.detail
    assert "cannot import driver module" in exc.value.detail


@pytest.mark.parametrize("mode", ["exec", "exec-stream"])
def test_writes_to_fd_1_do_not_corrupt_answers(mode, closing):
    """A served driver writing to fd 1 directly and through a child: the answer is intact
    in both modes (fd 1 points at stderr while the driver runs)."""
    served = " ".join(SERVER + ["broken_drivers.chatty_fd:driver"])
    driver = load_driver(f"{mode}:env PYTHONPATH={TESTS} {served}")
    if mode == "exec-stream":
        closing(driver)
    for _ in range(2):
        assert etree.fromstring(run_driver(driver, Request()).xml.encode()).tag == "domain"


# --- faults: named, the process killed and respawned, the run goes on ----------------

@pytest.mark.parametrize("mood, kind, detail", [
    ("die", "exit-code", "died mid-stream (exit code 1)"),
    ("orphan", "exit-code", "died mid-stream (exit code 1)"),
    ("hang", "timeout", "no reply line within 2 s"),
    ("flood", "bad-output", f"stdout exceeded {MAX_LINE} bytes"),
    ("wrongid", "wrong-id", "reply carries id"),
    ("stderr", "bad-output", "stderr exceeded"),
    ("notjson", "bad-output", "reply is not a JSON line"),
])
def test_misbehaving_request_is_a_named_fault_then_a_fresh_process(mood, kind, detail, closing):
    """The misbehaving request gets its named fault, the process group is killed, and the next
    request is answered by a new process."""
    driver = moody(timeout=2)
    closing(driver)
    assert run_driver(driver, Request()).xml
    first = driver.pid
    with pytest.raises(DriverFault) as exc:
        run_driver(driver, asking(mood))
    assert exc.value.kind == kind and detail in exc.value.detail, exc.value
    wait_until(lambda: not alive(first), 10, f"driver process {first} still alive")
    assert run_driver(driver, Request()).xml and driver.pid not in (None, first)


def test_hang_kills_the_grandchild_too(closing):
    """On a timeout the whole process group dies, the driver's own child included."""
    driver = moody(timeout=2)
    closing(driver)
    with pytest.raises(DriverFault) as exc:
        driver.build(asking("hang"))
    grandchild = int(exc.value.detail.split("grandchild pid ")[1].split()[0])
    wait_until(lambda: not alive(grandchild), 10, f"grandchild {grandchild} still alive")


def test_a_leftover_reply_is_out_of_order_for_the_next_request(closing):
    """Two replies to one request: the second one is kept and answers the next request with the
    wrong id, a wrong-id fault; the request after that is answered by a fresh process."""
    driver = moody()
    closing(driver)
    assert run_driver(driver, asking("twice")).xml
    with pytest.raises(DriverFault) as exc:
        driver.build(Request())
    assert exc.value.kind == "wrong-id" and "expected 2" in exc.value.detail
    assert run_driver(driver, Request()).xml


def test_a_reported_fault_keeps_the_process(closing):
    """A fault reply is a crash fault for that request only; the process stays."""
    driver = moody()
    closing(driver)
    run_driver(driver, Request())
    pid = driver.pid
    with pytest.raises(DriverFault, match="moody: boom") as exc:
        driver.build(asking("fault"))
    assert exc.value.kind == "crash" and driver.pid == pid


def test_stderr_is_drained_and_capped_per_request(closing):
    """60 KiB of stderr per request is fine however many requests (the cap is per request and
    the kept tail is bounded); faults quote the tail."""
    driver = moody("--log", 60 << 10)
    closing(driver)
    for _ in range(6):
        assert run_driver(driver, Request()).xml
    with pytest.raises(DriverFault) as exc:
        driver.build(asking("die"))
    assert "moody: dying on request 7" in exc.value.detail


def test_program_without_the_stream_protocol_fails_the_handshake_once(closing):
    """A one-shot-only program (reads stdin to EOF) never says hello: a handshake fault at the
    timeout, then the same fault at once for every later request (not retried)."""
    driver = StreamDriver([sys.executable, "-c", "import sys; sys.stdin.read(); print('<domain/>')"],
                          timeout=1)
    closing(driver)
    for _ in range(2):
        with pytest.raises(DriverFault) as exc:
            driver.build(Request())
        assert exc.value.kind == "handshake" and "one-shot" in exc.value.detail
    assert "not retried" in exc.value.detail


def test_wrong_hello_is_a_handshake_fault(closing):
    """A first line other than the hello is a handshake fault naming what came."""
    driver = StreamDriver([sys.executable, "-c", "print('hi', flush=True); import time; time.sleep(30)"])
    closing(driver)
    with pytest.raises(DriverFault) as exc:
        driver.build(Request())
    assert exc.value.kind == "handshake" and "b'hi'" in exc.value.detail


# --- one request at a time, and nothing left behind --------------------------------

def test_concurrent_builds_are_serialised(closing):
    """Four threads sharing one driver: every answer belongs to its own request."""
    driver = moody()
    closing(driver)
    names, errors = {}, []

    def work(thread: int):
        try:
            for i in range(10):
                name = f"instance-t{thread}-{i}"
                xml = driver.build(Request(instance_name=name))
                names[name] = etree.fromstring(xml.encode()).findtext("name")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(names) == 40 and all(k == v for k, v in names.items())


def test_close_is_idempotent_and_a_later_build_restarts(closing):
    """close() stops the process (also one ignoring EOF); twice is fine; build() starts anew."""
    driver = moody("--linger")
    closing(driver)
    driver.build(Request())
    pid = driver.pid
    driver.close()
    driver.close()
    assert driver.pid is None
    wait_until(lambda: not alive(pid), 10, f"driver {pid} survived close()")
    driver.build(Request())
    assert driver.pid not in (None, pid)


CHILD = """
import os, signal, sys
from conformance.drivers.exec_stream import StreamDriver
from conformance.contract import Request
driver = StreamDriver([sys.executable, {moody!r}, "--linger"])
driver.build(Request())
print(driver.pid, flush=True)
{end}
"""


@pytest.mark.parametrize("end", ["pass", "os.kill(os.getpid(), signal.SIGINT)", "sys.stdin.read()"],
                         ids=["exit", "SIGINT", "SIGTERM-under-pytest-plugin"])
def test_driver_process_dies_with_the_harness(end):
    """The harness ending (normal exit, Ctrl-C; SIGTERM as the pytest plugin turns it into
    KeyboardInterrupt) kills a driver that would outlive it (it ignores EOF)."""
    code = CHILD.format(moody=str(BROKEN / "stream_moody.py"), end=end)
    if end.startswith("sys.stdin"):
        code = "import signal\nfrom fixtures.plugin import _raise_interrupt\n" \
               "signal.signal(signal.SIGTERM, _raise_interrupt)\n" + code
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=ENV, text=True)
    try:
        pid = int(child.stdout.readline())
        if end.startswith("sys.stdin"):
            child.send_signal(signal.SIGTERM)
        child.wait(30)
        wait_until(lambda: not alive(pid), 10, f"driver {pid} outlived the harness")
    finally:
        child.kill()
        child.wait()


def test_served_driver_exits_when_the_harness_is_killed():
    """SIGKILL leaves no time for cleanup: driver-exec still exits, on the end of its stdin."""
    code = ("import sys\nfrom conformance.drivers import load_driver\nfrom conformance.contract import Request\n"
            f"driver = load_driver({'exec-stream:' + ' '.join(SERVER + ['reference'])!r})\n"
            "driver.build(Request())\nprint(driver.pid, flush=True)\nsys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        pid = int(child.stdout.readline())
        child.kill()
        child.wait(30)
        wait_until(lambda: not alive(pid), 10, f"driver-exec {pid} outlived its killed harness")
    finally:
        child.kill()
        child.wait()


def test_close_during_a_request_is_a_fault_for_that_request(closing):
    """close() from another thread while a request waits: that request ends with a named
    fault at once, not at its timeout."""
    driver = moody(timeout=30)
    closing(driver)
    driver.build(Request())
    timer = threading.Timer(0.5, driver.close)
    timer.start()
    try:
        with pytest.raises(DriverFault) as exc:
            driver.build(asking("hang"))
    finally:
        timer.join()
    assert exc.value.kind == "exit-code", exc.value


# --- protocol 2 (lifecycle) over the stream -----------------------------------------

def test_exec2_stream_serves_lifecycle_requests_like_in_process(closing):
    """exec2-stream: carries protocol-2 requests; the reference answers them as in process."""
    driver = load_driver("exec2-stream:" + " ".join(SERVER + ["reference"]))
    closing(driver)
    assert driver.protocol == 2
    for case in LIFECYCLE_CASES[:8]:
        request = case.request()
        assert request.protocol == 2
        try:
            want = canonical(ReferenceDriver().build(request))
        except Rejected as exc:
            with pytest.raises(Rejected) as got:
                driver.build(request)
            assert got.value.rejection.code == exc.rejection.code
        else:
            assert canonical(run_driver(driver, request).xml) == want


def test_protocol_2_request_to_a_protocol_1_served_driver_is_a_fault_reply():
    """driver-exec in stream mode refuses a protocol-2 request for a protocol-1 driver with a
    fault reply (and goes on); run_driver never sends one to an exec-stream: driver."""
    request = LIFECYCLE_CASES[0].request()
    lines = [HELLO, {"id": 1, "request": request.to_dict()}, {"id": 2, "request": Request().to_dict()}]
    done = subprocess.run(SERVER + ["broken_drivers.crashing:driver"], env=ENV, timeout=60,
                          input="".join(json.dumps(m) + "\n" for m in lines), capture_output=True, text=True)
    _, refused, served = [json.loads(line) for line in done.stdout.splitlines()]
    assert "speaks protocol 1" in refused["fault"] and "xml" in served
    with pytest.raises(RequestInvalid):
        run_driver(StreamDriver(SERVER + ["reference"]), request)
