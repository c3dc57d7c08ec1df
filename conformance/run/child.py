"""The pytest child of one host's certification: ``pytest`` of the suite in its own
session against one libvirt URI, with the collector plugin, supervised (a stop request
reaches its whole process group); its stderr passed on as it comes. Its temp files live in
a temp dir of the run (:class:`conformance.run.certify.Run` kills what the child's
descendants left and removes that dir); its results are read back by
:mod:`conformance.run.results`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from conformance.locations import InstallationIncomplete, suite_dir
from conformance.process import stop_with_parent
from conformance.run.results import read_results
from conformance.stopping import start_child, supervise

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


def run_pytest(settings, selection, uri, parallel, out: Path, label: str | None, tmp: Path,
               env: dict[str, str] | None = None) -> dict:
    """Run pytest of ``selection`` against ``uri`` in its own session, supervised until it
    ends (``label``: a fleet host's, in its progress lines; ``env``: added to its
    environment); its temp files in ``tmp``, a temp dir of the run. The results
    (:func:`~conformance.run.results.read_results`) and the tail of its stderr."""
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
