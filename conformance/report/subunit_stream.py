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

from conformance.report.aggregate import LEVELS

STATUS = {"pass": "success", "fail": "fail", "error": "fail", "skip": "skip", "not-run": "skip"}
REASON_NAME = {"fail": "reason", "error": "error", "skip": "reason", "not-run": "reason"}
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


def _attachments(entry: dict):
    status = entry["status"]
    if status in REASON_NAME:
        yield REASON_NAME[status], TEXT, (entry.get("reason") or status).encode("utf-8")
    if status in ("pass", "fail", "error") and entry.get("evidence") is not None:
        yield "evidence", JSON, json.dumps(entry["evidence"], indent=1, default=str).encode("utf-8")


def _started(report: dict) -> datetime:
    try:
        return datetime.strptime(report["started"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except (KeyError, ValueError):
        return datetime.now(timezone.utc)


def write_subunit(report: dict, path: Path) -> None:
    """Encode ``report`` (a finished report.json dict) into ``path``."""
    with open(path, "wb") as stream:
        emit(StreamResultToBytes(stream), report)


def emit(out, report: dict, prefix: str = "", tags=()) -> None:
    """Write ``report``'s tests to the subunit stream ``out``; ids get ``prefix`` in front
    (a fleet's ``<host label>.``) and every test the extra ``tags``."""
    clock = _started(report)
    for case, level, entry in emitted(report):
        name = prefix + test_id(case, level)
        test_tags = {f"feature:{case['feature']}", f"operation:{operation(case)}",
                     f"level:{level}", f"status:{entry['status']}", *tags}
        _emit_test(out, name, test_tags, entry, clock)
        clock += timedelta(seconds=entry.get("duration") or 0.0)


def _emit_test(out, name: str, tags: set, entry: dict, clock: datetime) -> None:
    out.status(test_id=name, test_status="inprogress", test_tags=tags, timestamp=clock)
    for file_name, mime, data in _attachments(entry):
        chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""]
        for number, chunk in enumerate(chunks, 1):
            out.status(test_id=name, file_name=file_name, file_bytes=chunk, mime_type=mime,
                       eof=number == len(chunks), timestamp=clock)
    done = clock + timedelta(seconds=entry.get("duration") or 0.0)
    out.status(test_id=name, test_status=STATUS[entry["status"]], test_tags=tags, timestamp=done)
