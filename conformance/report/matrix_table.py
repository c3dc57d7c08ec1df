"""The Nova release x feature table of ``conformance matrix``: built from each release's
report.json, written as matrix.json and matrix.html.

Per release: its status (ran / does not install / does not import / certify failed /
interrupted, with the exact error), wall times, per-feature counts of case verdicts, every
case that differs from the reference (verdict, level, reason, evidence, the last Nova source
line in a traceback) and whether those differences match the documentation's version notes:
a case with ``since`` newer than the release is expected to differ, any other failure is
undocumented, and a pass of a case the notes date after the release is unexpected.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from conformance.catalogue import FEATURES, by_id
from conformance.catalogue.notes import expected_to_pass, note_for, release_tuple
from conformance.report.aggregate import LEVELS

VERDICTS = ("pass", "fail", "error", "skip", "not-run")
NOVA_LINE = re.compile(r"(nova/[\w/]+\.py)\"?, line (\d+)")
EVIDENCE_CHARS = 1500


def _since(case_id: str) -> str | None:
    try:
        return by_id(case_id).since
    except KeyError:
        return None


def nova_source(text: str) -> str | None:
    """The last ``nova/...py:LINE`` of a traceback in ``text`` (where Nova raised)."""
    found = NOVA_LINE.findall(text or "")
    return f"{found[-1][0]}:{found[-1][1]}" if found else None


def _difference(case: dict) -> dict:
    level = next((lvl for lvl in LEVELS if case["levels"][lvl]["status"] in ("fail", "error", "not-run")),
                 LEVELS[0])
    entry = case["levels"][level]
    evidence = json.dumps(entry.get("evidence"), default=str)
    return {"id": case["id"], "feature": case["feature"], "name": case["name"],
            "verdict": case["verdict"], "since": _since(case["id"]), "level": level,
            "reason": (entry.get("reason") or case.get("reason") or "")[:2000],
            "evidence": evidence[:EVIDENCE_CHARS],
            "nova_source": nova_source(entry.get("reason", "") + evidence)}


def notes_check(version: str, cases: list[dict]) -> dict:
    """Do this release's verdicts match the documentation's version notes?"""
    expected, undocumented, unexpected = [], [], []
    for case in cases:
        since = _since(case["id"])
        promised = expected_to_pass(since, version)
        if case["verdict"] in ("fail", "error"):
            (undocumented if promised else expected).append(case["id"])
        elif case["verdict"] == "pass" and not promised:
            unexpected.append(case["id"])
    notes = sorted({note_for(by_id(i).feature, by_id(i).since).text for i in expected + unexpected})
    return {"matches": not undocumented and not unexpected, "expected_differences": expected,
            "undocumented_differences": undocumented, "unexpected_passes": unexpected,
            "notes_involved": notes}


def release_row(version: str, status: str, report: dict | None, *, error: str | None = None,
                wall: dict | None = None, report_path: str | None = None) -> dict:
    """One release's row; ``report`` is its report.json (None when it could not run)."""
    row = {"version": version, "status": status, "error": error, "wall_seconds": wall or {},
           "report": report_path, "headline": None, "verdict": None, "features": {},
           "differences": [], "notes": None, "verdicts": {}}
    if report is None:
        return row
    cases = report["cases"]
    for feature in FEATURES:
        mine = [c for c in cases if c["feature"] == feature]
        if mine:
            row["features"][feature] = {v: sum(c["verdict"] == v for c in mine) for v in VERDICTS}
            row["features"][feature]["total"] = len(mine)
    row.update(headline=report["certification"]["headline"], verdict=report["certification"]["verdict"],
               differences=[_difference(c) for c in cases if c["verdict"] in ("fail", "error", "not-run")],
               notes=notes_check(version, cases), verdicts={c["id"]: c["verdict"] for c in cases})
    return row


def table(rows: list[dict], level: str, wall_seconds: float) -> dict:
    """matrix.json: the rows newest release first, and every case whose verdict is not pass
    in some release or differs between releases, with its verdict per release."""
    rows = sorted(rows, key=lambda r: release_tuple(r["version"]), reverse=True)
    ran = [row for row in rows if row["verdicts"]]
    across = []
    for case_id in dict.fromkeys(i for row in ran for i in row["verdicts"]):
        per_release = {row["version"]: row["verdicts"].get(case_id) for row in ran}
        if set(per_release.values()) != {"pass"}:
            case = by_id(case_id)
            across.append({"id": case_id, "feature": case.feature, "name": case.name,
                           "since": case.since, "verdicts": per_release})
    return {"format": 1, "level": level, "wall_seconds": round(wall_seconds, 1),
            "features": list(FEATURES), "releases": rows, "differences": across}


def write_json(matrix: dict, path: Path) -> None:
    path.write_text(json.dumps(matrix, indent=1, sort_keys=True))


def _cell(counts: dict | None) -> str:
    if not counts:
        return "<td>-</td>"
    bad = "".join(f" <b class='{k}'>{counts[k]} {k}</b>" for k in ("fail", "error", "skip", "not-run") if counts[k])
    return f"<td>{counts['pass']}/{counts['total']}{bad}</td>"


def write_html(matrix: dict, path: Path) -> None:
    """A self-contained page: release x feature, then each release's differences."""
    e = html.escape
    head = "".join(f"<th>{e(f)}</th>" for f in matrix["features"])
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>Nova release matrix</title><style>",
           "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #bbb;"
           "padding:4px 8px;vertical-align:top}.fail,.error{color:#c62828}.skip{color:#777}"
           "pre{white-space:pre-wrap;background:#f6f6f6;max-width:100em;font-size:85%}</style></head><body>",
           f"<h1>Nova release matrix (level {e(matrix['level'])})</h1>",
           f"<table id='matrix'><tr><th>release</th><th>status</th>{head}<th>version notes</th>"
           "<th>wall s (install, import, certify)</th></tr>"]
    for row in matrix["releases"]:
        notes = row["notes"]
        said = "-" if notes is None else ("matches" if notes["matches"] else "DIFFERS")
        wall = row["wall_seconds"]
        times = ", ".join(f"{wall[k]:g}" if k in wall else "-" for k in ("provision", "import", "certify"))
        status = e(row["status"]) + (f"<br><small>{e(row['error'][:300])}</small>" if row["error"] else "")
        cells = "".join(_cell(row["features"].get(f)) for f in matrix["features"])
        out.append(f"<tr data-release='{e(row['version'], quote=True)}'><th>nova {e(row['version'])}</th>"
                   f"<td>{status}</td>{cells}<td>{said}</td><td>{times}</td></tr>")
    out.append("</table>")
    for row in matrix["releases"]:
        if not row["differences"] and not (row["notes"] and row["notes"]["unexpected_passes"]):
            continue
        out.append(f"<h2>nova {e(row['version'])}: {len(row['differences'])} differences from the reference</h2>")
        for diff in row["differences"]:
            since = f" (since {e(diff['since'])})" if diff["since"] else ""
            source = f" at <code>{e(diff['nova_source'])}</code>" if diff["nova_source"] else ""
            out.append(f"<h3>{e(diff['feature'])}/{e(diff['name'])} <small>{e(diff['id'])}</small>{since}</h3>"
                       f"<p class='{e(diff['verdict'])}'>{e(diff['verdict'])} at level {e(diff['level'])}{source}</p>"
                       f"<pre>{e(diff['reason'])}</pre><pre>{e(diff['evidence'])}</pre>")
        if row["notes"]:
            for key in ("undocumented_differences", "unexpected_passes"):
                if row["notes"][key]:
                    out.append(f"<p>{e(key.replace('_', ' '))}: {e(', '.join(row['notes'][key]))}</p>")
    out.append("</body></html>")
    path.write_text("\n".join(out), encoding="utf-8")
