"""Write report.subunit: the certification as a subunit v2 stream (python-subunit's encoder),
for stestr/Zuul tooling (``subunit2junitxml``, ``subunit2html``, ``subunit-stats``).

One test per case and level that has a check, as in junit.xml: the test id is
``<feature>.<name>[<level>] id-<uuid>`` (junit.xml's classname, a dot, its name). Levels
that are ``n/a`` are not emitted. Subunit v2 has no "error" status, so:

| our status | subunit status | attachments |
|---|---|---|
| pass | success | evidence (if any) |
| fail | fail | reason, evidence |
| error | fail | error (the reason), evidence |
| skip | skip | reason |
| not-run (interrupted) | skip | reason (``not run: the run was interrupted ...``) |
| flaky (passed on a rerun) | fail (``[run] flaky_is_failure``) or success | reason, attempts |

A test whose level has artefacts also carries ``artifacts`` (one line per file: its path,
what it is, its size, whether it was cut) and each file's content, attached once per
stream (named by its path) within a budget (:class:`conformance.report.forensics.SubunitFiles`).
A case certify reran carries ``attempts`` (each attempt's verdict, level statuses, reason).

``exists`` is not used for not-run levels: subunit-stats and stestr do not count it as run
nor skipped, while junit.xml counts not-run as skipped. Every test carries the tags
``feature:<f>``, ``operation:<op>``, ``level:<l>`` and ``status:<our status>`` (lossless:
errors and not-run stay distinguishable). Timestamps are synthetic: tests follow each other
from the report's ``started`` time, each lasting its level's duration.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from subunit import StreamResultToBytes

from conformance.report import forensics
from conformance.report.aggregate import LEVELS

STATUS = {"pass": "success", "fail": "fail", "error": "fail", "skip": "skip", "not-run": "skip"}
REASON_NAME = {"fail": "reason", "error": "error", "skip": "reason", "not-run": "reason", "flaky": "reason"}
TEXT = "text/plain; charset=utf8"
JSON = "application/json"
CHUNK = 65536  # bytes per file packet (a v2 packet holds at most 4 MiB)


def test_id(case: dict, level: str) -> str:
    return f"{case['feature']}.{case['name']}[{level}] id-{case['id']}"


def operation(case: dict) -> str:
    """The case's operation: the report's field, else the catalogue case's, else create."""
    if case.get("operation"):
        return case["operation"]
    from conformance.catalogue import by_id
    try:
        return getattr(by_id(case["id"]), "operation", "create")
    except KeyError:
        return "create"


def emitted(report: dict):
    """(case, level, entry) for every case and level that is not n/a, in report order."""
    for case in report["cases"]:
        for level in LEVELS:
            entry = case["levels"][level]
            if entry["status"] != "n/a":
                yield case, level, entry


def _attachments(case: dict, entry: dict, files):
    status = entry["status"]
    if status in REASON_NAME:
        yield REASON_NAME[status], TEXT, (entry.get("reason") or status).encode("utf-8")
    if status in ("pass", "fail", "error", "flaky") and entry.get("evidence") is not None:
        yield "evidence", JSON, json.dumps(entry["evidence"], indent=1, default=str).encode("utf-8")
    if case.get("attempts"):
        yield "attempts", TEXT, forensics.attempts_text(case).encode("utf-8")
    if files is not None:
        yield from files.attachments(entry.get("artifacts"))


def _started(report: dict) -> datetime:
    try:
        return datetime.strptime(report["started"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (KeyError, ValueError):
        return datetime.now(timezone.utc)


def write_subunit(report: dict, path: Path) -> None:
    """Encode ``report`` (a finished report.json dict) into ``path``; the artefacts it links
    are read from ``path``'s directory."""
    with open(path, "wb") as stream:
        emit(StreamResultToBytes(stream), report, files=forensics.SubunitFiles(path.parent))


def emit(out, report: dict, prefix: str = "", tags=(), files=None) -> None:
    """Write ``report``'s tests to the subunit stream ``out``; ids get ``prefix`` in front
    (a fleet's ``<host label>.``) and every test the extra ``tags``; ``files``
    (:class:`~conformance.report.forensics.SubunitFiles`) attaches the artefacts."""
    clock = _started(report)
    flaky_is_failure = report["certification"].get("flaky_is_failure", True)
    for case, level, entry in emitted(report):
        name = prefix + test_id(case, level)
        test_tags = {f"feature:{case['feature']}", f"operation:{operation(case)}",
                     f"level:{level}", f"status:{entry['status']}", *tags}
        status = STATUS.get(entry["status"]) or ("fail" if flaky_is_failure else "success")
        _emit_test(out, name, test_tags, status, _attachments(case, entry, files), clock,
                   entry.get("duration") or 0.0)
        clock += timedelta(seconds=entry.get("duration") or 0.0)


def _emit_test(out, name: str, tags: set, status: str, attachments, clock: datetime,
               duration: float) -> None:
    out.status(test_id=name, test_status="inprogress", test_tags=tags, timestamp=clock)
    for file_name, mime, data in attachments:
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        for number, chunk in enumerate(chunks, 1):
            out.status(test_id=name, file_name=file_name, file_bytes=chunk, mime_type=mime,
                       eof=number == len(chunks), timestamp=clock)
    done = clock + timedelta(seconds=duration)
    out.status(test_id=name, test_status=status, test_tags=tags, timestamp=done)
