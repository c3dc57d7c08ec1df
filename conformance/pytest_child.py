"""The pytest child of one host's certification: ``pytest`` of the suite in its own
session against one libvirt URI, with the collector plugin; its streamed results read back
whatever the child's fate (:func:`read_results`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from conformance.lab.runs import owned_temp_dir
from conformance.locations import InstallationIncomplete, suite_dir
from conformance.process import stop_with_parent
from conformance.stopping import children, kill_orphans, start_child, supervise

# modules of the suite (conformance.locations.suite_dir: a checkout's tests/conformance, or
# the installed conformance/suite)
XML_TESTS = ["test_xml_catalogue.py"]
LIVE_TESTS = ["test_live_requests.py", "test_live_features.py", "test_live_locked_memory.py",
              "test_live_lifecycle.py"]
STOP_GRACE = 30.0  # seconds between the stop request and SIGKILL of the pytest child's group
TEST_TIMEOUT = 600  # seconds per test (pytest-timeout), as the checkout's pytest.ini says


def suite_argv(modules: list[str]) -> tuple[list[str], Path]:
    """pytest's arguments for ``modules`` of the suite (absolute paths: the child runs in
    our working directory, where a driver's relative command is), and its rootdir.
    Everything is explicit (no ini file is read: an installed suite has none): markers come
    from the plugin (fixtures.plugin), rootdir is the suite's grandparent (node ids
    ``tests/conformance/test_x.py::...`` in a checkout, ``conformance/suite/...`` installed)."""
    suite = suite_dir()
    missing = [name for name in modules if not (suite / name).is_file()]
    if missing:
        raise InstallationIncomplete(f"the certification suite in {suite} lacks {', '.join(missing)}")
    root = suite.parent.parent
    return [*(str(suite / name) for name in modules), "-c", os.devnull,
            "--rootdir", str(root), "--confcutdir", str(suite), "--strict-markers",
            "--timeout", str(TEST_TIMEOUT)], root


def run_pytest(settings, selection, uri, parallel, out: Path, label: str | None,
               scratch: Path | None, env: dict[str, str] | None = None) -> dict:
    """Run pytest in its own session (``env``: added to its environment); its temp files
    live in (and go with) a temp dir of ours: its own (orphans killed before it goes), or
    one under the fleet's ``scratch``."""
    if scratch is not None:
        return _pytest_child(settings, selection, uri, parallel, out, label,
                             Path(tempfile.mkdtemp(prefix=f"{label}-", dir=scratch)), env)
    ours = children()  # e.g. the ssh of certify's own live qemu+ssh:// connection
    tmp = owned_temp_dir("cfm-certify-")  # `cleanup` removes it if we are SIGKILLed
    try:
        return _pytest_child(settings, selection, uri, parallel, out, label, tmp, env)
    finally:
        kill_orphans(spare=ours)  # driver processes in other sessions, before their temp files go
        shutil.rmtree(tmp, ignore_errors=True)


def _pytest_child(settings, selection, uri, parallel, out: Path, label, tmp: Path,
                  env: dict[str, str] | None) -> dict:
    tests, _ = suite_argv(XML_TESTS + ([] if settings.level == "xml" else LIVE_TESTS))
    select, results = tmp / "select.json", tmp / "results.jsonl"
    child_tmp = tmp / "tmp"
    child_tmp.mkdir()
    selection.save(str(select))
    argv = [sys.executable, "-m", "pytest", *tests, "-p", "conformance.report.collector",
            "--cfm-results", str(results), "--cfm-select", str(select),
            "--cfm-progress", _progress(settings.progress), *(["--cfm-label", label] if label else []),
            "--driver", settings.driver, "--libvirt-uri", uri, "--accel", settings.accel,
            *(["--conformance-config", settings.config_path] if settings.config_path else []),
            "--results-dir", str(out), "-p", "no:cacheprovider", "-q", "-rN",
            "--junitxml", str(out / "pytest-junit.xml")]
    if parallel > 1:  # loadgroup: a guest group's items (xdist_group marks) on one worker
        argv += ["-n", str(parallel), "--dist", "loadgroup"]
    child_env = dict(os.environ, **(env or {}), CONFORMANCE_DRIVER=settings.driver,
                     TMPDIR=str(child_tmp))
    with open(out / "pytest.log", "w") as log:
        proc = start_child(argv, cwd=os.getcwd(), stdout=log, stderr=subprocess.PIPE, env=child_env,
                           preexec_fn=stop_with_parent())
        tail = _Tail(proc.stderr)
        code = supervise(proc, settings.stop, grace=STOP_GRACE)
    return {**read_results(results, code), "stderr": tail.text()}


def _progress(mode: str) -> str:
    """The child's stderr is a pipe (see :class:`_Tail`): "auto" is decided here, by ours."""
    return ("tty" if sys.stderr.isatty() else "plain") if mode == "auto" else mode


_STDERR = threading.Lock()  # a fleet's hosts pass their children's lines on in whole chunks


def _pass_on(chunk: bytes) -> None:
    """``chunk`` to our stderr; a stderr that cannot take it never stops the draining."""
    with _STDERR:
        try:
            binary = getattr(sys.stderr, "buffer", None)
            if binary is not None:
                binary.write(chunk)
            else:
                sys.stderr.write(chunk.decode(errors="replace"))
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


class _Tail:
    """What a child wrote on stderr, passed on to ours as it comes (progress lines); the
    last :data:`TAIL_BYTES` kept (pytest's usage errors are only there)."""
    TAIL_BYTES = 8192

    def __init__(self, stream):
        self._stream, self._kept, self._done = stream, b"", threading.Event()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True,
                                        name="pytest child stderr")
        self._thread.start()

    def _pump(self, stream) -> None:
        try:
            while chunk := os.read(stream.fileno(), 4096):
                self._kept = (self._kept + chunk)[-self.TAIL_BYTES:]
                _pass_on(chunk)
        except (OSError, ValueError):
            pass
        finally:
            self._done.set()

    def text(self, wait: float = 2.0) -> str:
        """The tail; waits up to ``wait`` s for the end of the stream (a grandchild that
        outlived the child may hold it open: then what came so far)."""
        if self._done.wait(wait):
            self._stream.close()
        return self._kept.decode(errors="replace")




def read_results(path: Path, code: int) -> dict:
    """Entries the collector streamed (one JSON line each), whatever the child's fate; the
    exit status is the collector's final line when pytest got that far, else None."""
    entries, exitstatus = [], None
    try:
        lines = path.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a kill
        if "exitstatus" in record:
            exitstatus = record["exitstatus"]
        else:
            entries.append(record)
    try:
        expected = json.loads(Path(f"{path}.expected").read_text())
    except (OSError, ValueError):
        expected = []
    return {"entries": entries, "expected": expected, "exitstatus": exitstatus if exitstatus is not None else
            (None if code < 0 or not lines else code)}


def pytest_problem(exitstatus, interrupted, out: Path, stderr: str = "") -> str | None:
    """Why the pytest run itself cannot back a verdict, in one line with its cause (None
    when it can): an INTERNALERROR (at collection or later) from ``out``/pytest.log, a usage
    error from the child's ``stderr`` (its tail), no test collected, or its death."""
    if interrupted or exitstatus in (0, 1):
        return None
    log = out / "pytest.log"
    if exitstatus is None:
        return f"pytest wrote no final result (it died); see {log}"
    if exitstatus == 5:
        return f"pytest collected no test for this selection; see {log}"
    try:
        text = log.read_text(errors="replace")
    except OSError:
        text = ""
    stopped = _exit_message(text)
    if stopped:  # pytest.exit(): e.g. the judged driver cannot be loaded
        return f"pytest stopped: {stopped} (see {log})"[:600]
    cause = internal_error(text) or usage_error(stderr) or _last_error(text + "\n" + stderr)
    what = {2: "pytest was interrupted (collection errors)", 3: "pytest INTERNALERROR",
            4: "pytest usage error"}.get(exitstatus, f"pytest ended with status {exitstatus}")
    if cause:
        return f"{what}{'' if cause.startswith('at ') else ':'} {cause} (see {log})"[:600]
    return f"{what} (status {exitstatus}) without a message; see {log}"


def _exit_message(log: str) -> str | None:
    """The reason given to ``pytest.exit()`` (pytest prints ``!... Exit: REASON !...``)."""
    found = re.search(r"^!+ (?:_pytest\.outcomes\.)?Exit: (.*?) !+$", log, re.MULTILINE)
    return found[1] if found else None


_EXCEPTION = re.compile(r"^INTERNALERROR>(?: E)?\s+([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\w*: .*)$")


def internal_error(log: str) -> str | None:
    """``at collection: Type: message`` (or ``Type: message``) of the first exception an
    INTERNALERROR block of a pytest log names (a worker's, shown first, is the root cause)."""
    lines = log.splitlines()
    for index, line in enumerate(lines):
        found = _EXCEPTION.match(line)
        if found and not found[1].startswith("AssertionError: Traceback"):
            during = "\n".join(lines[:index])
            where = "at collection: " if "pytest_collection" in during or "perform_collect" in during else ""
            return f"{where}{found[1].strip()}"
    return None


def usage_error(stderr: str) -> str | None:
    """pytest's own ``ERROR: ...`` line (a usage error: unknown option, missing file)."""
    errors = [line[len("ERROR: "):].strip() for line in stderr.splitlines() if line.startswith("ERROR: ")]
    return errors[0] if errors else None


def _last_error(text: str) -> str | None:
    found = [line.strip() for line in text.splitlines()
             if re.match(r"^(E\s+)?[A-Za-z_][\w.]*(Error|Exception): ", line.strip())]
    return re.sub(r"^E\s+", "", found[-1]) if found else None
