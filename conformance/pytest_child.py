"""The pytest child of one host's certification: ``pytest tests/conformance`` in its own
session against one libvirt URI, with the collector plugin; its streamed results read back
whatever the child's fate (:func:`read_results`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from conformance.lab.runs import owned_temp_dir
from conformance.process import stop_with_parent
from conformance.stopping import children, kill_orphans, start_child, supervise

REPO = Path(__file__).resolve().parents[1]
XML_TESTS = ["tests/conformance/test_xml_catalogue.py"]
LIVE_TESTS = ["tests/conformance/test_live_requests.py", "tests/conformance/test_live_features.py",
              "tests/conformance/test_live_locked_memory.py", "tests/conformance/test_live_lifecycle.py"]
STOP_GRACE = 30.0  # seconds between the stop request and SIGKILL of the pytest child's group


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
    tests = XML_TESTS + ([] if settings.level == "xml" else LIVE_TESTS)
    select, results = tmp / "select.json", tmp / "results.jsonl"
    child_tmp = tmp / "tmp"
    child_tmp.mkdir()
    selection.save(str(select))
    argv = [sys.executable, "-m", "pytest", *tests, "-p", "conformance.report.collector",
            "--cfm-results", str(results), "--cfm-select", str(select),
            "--cfm-progress", settings.progress, *(["--cfm-label", label] if label else []),
            "--driver", settings.driver, "--libvirt-uri", uri, "--accel", settings.accel,
            *(["--conformance-config", settings.config_path] if settings.config_path else []),
            "--results-dir", str(out), "-p", "no:cacheprovider", "-q", "-rN",
            "--junitxml", str(out / "pytest-junit.xml")]
    if parallel > 1:  # loadgroup: a guest group's items (xdist_group marks) on one worker
        argv += ["-n", str(parallel), "--dist", "loadgroup"]
    child_env = dict(os.environ, **(env or {}), CONFORMANCE_DRIVER=settings.driver,
                     TMPDIR=str(child_tmp))
    with open(out / "pytest.log", "w") as log:
        proc = start_child(argv, cwd=REPO, stdout=log, stderr=None, env=child_env,
                           preexec_fn=stop_with_parent())
        code = supervise(proc, settings.stop, grace=STOP_GRACE)
    return read_results(results, code)


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


def pytest_problem(exitstatus, interrupted, out: Path) -> str | None:
    """Why the pytest run itself cannot back a verdict (None when it can)."""
    if interrupted:
        return None
    if exitstatus is None:
        return f"pytest wrote no final result (it died); see {out}/pytest.log"
    if exitstatus == 5:
        return f"pytest collected no test for this selection; see {out}/pytest.log"
    if exitstatus not in (0, 1):
        return f"pytest ended with status {exitstatus}; see {out}/pytest.log"
    return None
