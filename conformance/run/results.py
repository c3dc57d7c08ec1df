"""What a host's pytest child leaves behind, read back whatever its fate: the results the
collector streamed (:func:`read_results`), and why the run cannot back a verdict, in one
line with its cause (:func:`pytest_problem`)."""

from __future__ import annotations

import json
import re
from pathlib import Path


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
