"""The exec protocol: client (ExecDriver) and server (conformance driver-exec), with schemas."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from conformance.contract import Flavor, Rejected, Request, driver_protocol, validate
from conformance.drivers import load_driver, run_driver
from conformance.drivers.exec import MAX_STDOUT, ExecDriver
from conformance.errors import DriverFault, RequestInvalid
from conformance.waiters import wait_until

BROKEN = Path(__file__).resolve().parents[1] / "broken_drivers"
SERVER = [sys.executable, "-m", "conformance.cli", "driver-exec"]


def script(body: str) -> list[str]:
    """argv of a Python one-off driver."""
    return [sys.executable, "-c", body]


def serve(spec: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(SERVER + [spec], input=stdin, capture_output=True, text=True, timeout=60)


def fault(driver, request=Request()) -> DriverFault:
    with pytest.raises(DriverFault) as exc:
        run_driver(driver, request)
    return exc.value


# --- the request side ---------------------------------------------------------------

def test_request_json_matches_schema():
    """Request.to_json is protocol 1 and valid against conformance/schema/request-v1.json."""
    data = json.loads(Request(flavor=Flavor(extra_specs={"hw:pmu": "on"})).to_json())
    assert data["protocol"] == 1
    validate("request", data)


def test_driver_receives_the_request_on_stdin(tmp_path):
    """The command gets exactly Request.to_json() on stdin."""
    seen = tmp_path / "stdin.json"
    driver = ExecDriver(script(f"import sys; open({str(seen)!r}, 'w').write(sys.stdin.read()); "
                               "print('<domain/>')"))
    request = Request(instance_name="instance-0000002a")
    run_driver(driver, request)
    assert Request.from_json(seen.read_text()) == request


# --- answers ------------------------------------------------------------------------

def test_exit0_xml_is_accepted():
    """Exit 0 with XML on stdout is Accepted; the reference served over exec matches in-process."""
    from conformance.reference import ReferenceDriver

    request = Request(flavor=Flavor(extra_specs={"hw:watchdog_action": "pause"}))
    outcome = run_driver(ExecDriver(SERVER + ["reference"]), request)
    assert etree.tostring(etree.fromstring(outcome.xml)) == etree.tostring(
        etree.fromstring(ReferenceDriver().build(request)))


def test_exit2_json_is_a_rejection():
    """Exit 2 with a schema-valid JSON rejection raises Rejected with that code and message."""
    driver = ExecDriver(script('import json; print(json.dumps({"error": "RngDeviceNotExist", '
                               '"message": "gone"})); raise SystemExit(2)'))
    with pytest.raises(Rejected) as exc:
        driver.build(Request())
    assert (exc.value.rejection.code, exc.value.rejection.message) == ("RngDeviceNotExist", "gone")


@pytest.mark.parametrize("stdout, kind", [
    ("not json", "bad-output"),
    ('{"error": "Nope", "message": "x"}', "bad-rejection"),
    ('{"error": "LockMemoryForbidden"}', "bad-rejection"),
    ('{"error": "LockMemoryForbidden", "message": "x", "extra": 1}', "bad-rejection"),
])
def test_bad_rejection_json_is_a_fault(stdout, kind):
    """Exit 2 whose stdout is not a valid rejection-v1 document is a DriverFault."""
    driver = ExecDriver(script(f"print({stdout!r}); raise SystemExit(2)"))
    assert fault(driver).kind == kind


def test_other_exit_code_reports_stderr_tail():
    """Exit 1 is an exit-code fault that quotes the end of stderr."""
    err = fault(ExecDriver([sys.executable, str(BROKEN / "exec_exit_one.py")]))
    assert err.kind == "exit-code"
    assert "exit code 1" in err.detail and "RuntimeError: driver exploded" in err.detail


def test_killed_by_signal_is_reported():
    """A driver killed by a signal is an exit-code fault naming the signal."""
    err = fault(ExecDriver(script("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")))
    assert err.kind == "exit-code" and "signal 9" in err.detail


def test_unstartable_program_is_a_fault(tmp_path):
    """An executable the kernel cannot run (no shebang, not ELF) is a fault, not a crash."""
    program = tmp_path / "driver"
    program.write_text("echo '<domain/>'\n")
    program.chmod(0o755)
    err = fault(ExecDriver([str(program)]))
    assert err.kind == "exit-code" and "cannot start" in err.detail


def test_junk_on_stdout_is_not_xml():
    """Exit 0 with junk is a not-xml fault."""
    assert fault(ExecDriver([sys.executable, str(BROKEN / "exec_junk.py")])).kind == "not-xml"


def test_non_domain_root():
    """Exit 0 with XML whose root is not <domain> is a not-domain fault."""
    assert fault(ExecDriver(script("print('<network/>')"))).kind == "not-domain"


def test_doctype_entities_are_refused():
    """Domain XML behind a DOCTYPE with entity declarations is refused as unsafe."""
    err = fault(ExecDriver([sys.executable, str(BROKEN / "exec_doctype.py")]))
    assert err.kind == "unsafe"


def test_invalid_utf8_is_bad_output():
    """Exit 0 with bytes that are not UTF-8 is bad output."""
    driver = ExecDriver(script("import sys; sys.stdout.buffer.write(b'<domain>\\xff</domain>')"))
    assert fault(driver).kind == "bad-output"


# --- bounds -------------------------------------------------------------------------

def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def test_hanging_driver_times_out_and_its_group_is_killed():
    """A driver that never answers is a timeout fault; its grandchild is killed too."""
    err = fault(ExecDriver([sys.executable, str(BROKEN / "exec_hang.py")], timeout=2))
    assert err.kind == "timeout" and "within 2 s" in err.detail
    pid = int(err.detail.split("grandchild pid ")[1].split()[0])
    wait_until(lambda: _gone(pid), timeout=10, what=f"grandchild {pid} of the hung driver still alive")


def test_flooding_driver_is_killed_at_the_cap():
    """Endless stdout is cut at the cap (the process group is killed), not buffered."""
    err = fault(ExecDriver([sys.executable, str(BROKEN / "exec_flood.py")], timeout=20))
    assert err.kind == "bad-output" and f"stdout exceeded {MAX_STDOUT} bytes" in err.detail


def test_flooding_stderr_is_capped():
    """Endless stderr is cut at its cap as well."""
    driver = ExecDriver(script("import sys\nwhile True: sys.stderr.write('x' * 65536)"), timeout=20)
    assert "stderr exceeded" in fault(driver).detail


def test_driver_not_reading_stdin_is_fine():
    """A driver may ignore its (large) stdin; a broken pipe on our side is not an error."""
    big = Request(flavor=Flavor(extra_specs={f"k{i}": "v" * 250 for i in range(256)}))
    assert run_driver(ExecDriver(script("print('<domain/>')")), big).xml.strip() == "<domain/>"


# --- the server: conformance driver-exec --------------------------------------------

def test_server_accepts():
    """driver-exec prints the domain XML and exits 0."""
    done = serve("reference", Request().to_json())
    assert done.returncode == 0 and etree.fromstring(done.stdout.encode()).tag == "domain"


def test_server_rejects_with_schema_valid_json():
    """driver-exec prints a rejection-v1 document and exits 2."""
    request = Request(flavor=Flavor(extra_specs={"hw:locked_memory": "true"}))
    done = serve("reference", request.to_json())
    assert done.returncode == 2
    data = json.loads(done.stdout)
    validate("rejection", data)
    assert data["error"] == "LockMemoryForbidden"


@pytest.mark.parametrize("stdin, message", [
    ("not json", "request is not JSON"),
    (json.dumps({**Request().to_dict(), "protocol": 4}), "request invalid at protocol"),
    (json.dumps({**Request().to_dict(), "protocol": 2}), "'operation' is a required property"),
    (json.dumps({**Request().to_dict(), "protocol": 2, "operation": "resize"}), "'old_flavor' is a required property"),
    (json.dumps({**Request().to_dict(), "virt_type": "xen"}), "request invalid at virt_type"),
    (json.dumps({k: v for k, v in Request().to_dict().items() if k != "host"}), "'host' is a required"),
])
def test_server_refuses_invalid_requests_with_exit_3(stdin, message):
    """A request that breaks the schema: exit 3, a message on stderr, nothing on stdout."""
    done = serve("reference", stdin)
    assert (done.returncode, done.stdout) == (3, "")
    assert message in done.stderr


def test_server_refuses_protocol_2_for_a_protocol_1_driver():
    """A lifecycle request for a served driver that declares no protocol (1): exit 3, named."""
    request = Request(operation="reboot")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(SERVER + ["broken_drivers.chatty:driver"], input=request.to_json(),
                          capture_output=True, text=True, timeout=60, env=env)
    assert (done.returncode, done.stdout) == (3, "")
    assert "protocol-2 request (reboot)" in done.stderr and "speaks protocol 1" in done.stderr


def test_protocol_is_declared_by_the_spec():
    """exec:COMMAND speaks protocol 1, exec2:COMMAND protocol 2; run_driver never sends a
    protocol-2 request to a protocol-1 driver."""
    one, two = (load_driver(f"{kind}:{sys.executable} -c pass") for kind in ("exec", "exec2"))
    assert (driver_protocol(one), driver_protocol(two)) == (1, 2)
    assert two.name.startswith("exec2:")
    with pytest.raises(RequestInvalid, match="speaks protocol 1"):
        run_driver(one, Request(operation="stop_start"))


def test_server_bad_driver_spec_exits_3():
    """An unloadable driver spec: exit 3 with the load error on stderr."""
    done = serve("cfm_no_such_module_xyz:driver", Request().to_json())
    assert done.returncode == 3 and "cannot import driver module" in done.stderr


def test_server_keeps_driver_prints_off_stdout():
    """What a served Python driver prints goes to stderr; stdout holds only the answer."""
    env = {**os.environ, "PYTHONPATH": str(BROKEN.parent)}
    code = ("import sys; from conformance.cli import main; sys.exit(main(['driver-exec', "
            "'broken_drivers.chatty:driver']))")
    done = subprocess.run([sys.executable, "-c", code], input=Request().to_json(), env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert etree.fromstring(done.stdout.encode()).tag == "domain"
    assert "debug: building" in done.stderr
