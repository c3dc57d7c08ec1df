"""Write a certification report three ways: report.json, junit.xml, report.html."""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path

from lxml import etree

from conformance.report import forensics
from conformance.report.aggregate import LEVELS
from conformance.report.digest import digest

STATUS_COLOURS = {"pass": "#2e7d32", "flaky": "#f9a825", "fail": "#c62828", "error": "#6a1b9a",
                  "skip": "#9e9e9e", "not-run": "#ef6c00", "n/a": "#cfcfcf"}


def schema(name: str = "report-schema.json") -> dict:
    return json.loads(resources.files("conformance.report").joinpath(name).read_text())


def finish(report: dict, schema_name: str = "report-schema.json") -> dict:
    """Add the digest and validate against the schema ``schema_name`` (raises
    jsonschema.ValidationError)."""
    import jsonschema
    report = dict(report, digest="sha256:" + "0" * 64)
    report["digest"] = digest(report)
    jsonschema.validate(report, schema(schema_name))
    return report


def write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, indent=1, sort_keys=True, default=str))


def _clean(text) -> str:
    """XML 1.0 cannot carry control characters that driver or guest output may contain."""
    text = "" if text is None else str(text)
    return "".join(c if c in "\t\n\r" or ord(c) >= 32 else f"\\x{ord(c):02x}" for c in text)


def _headline(message: str) -> str:
    """First line of a reason without pytest's "E   " prefix (for the message attribute)."""
    first = message.splitlines()[0] if message else ""
    return re.sub(r"^E\s+", "", first)


def write_junit(report: dict, path: Path) -> None:
    """One <testcase> per case and level run (classname = feature); the certification
    (verdict, level, per-level counts, skip reasons, headline) as suite properties."""
    etree.ElementTree(junit_suite(report)).write(str(path), xml_declaration=True, encoding="utf-8",
                                                 pretty_print=True)


def junit_suite(report: dict, name: str | None = None, extra=(), base: str = "") -> etree._Element:
    """The <testsuite> of ``report`` (``extra``: more (name, value) suite properties; ``base``:
    put in front of artefact paths, for a report read from another directory)."""
    flaky_is_failure = report["certification"].get("flaky_is_failure", True)
    suite = etree.Element("testsuite", name=name or f"conformance[{_clean(report['driver'])}]")
    props = etree.SubElement(suite, "properties")
    for prop, value in [*_junit_properties(report), *extra]:
        etree.SubElement(props, "property", name=prop, value=_clean(value)[:4000])
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in report["cases"]:
        for level in LEVELS:
            entry = case["levels"][level]
            if entry["status"] == "n/a":
                continue
            counts["tests"] += 1
            test = etree.SubElement(suite, "testcase", classname=case["feature"],
                                    name=f"{case['name']}[{level}] id-{case['id']}",
                                    time=str(entry.get("duration", 0)))
            message = _clean(entry["reason"])[:2000]
            status = forensics.junit_extras(test, case, level, entry, flaky_is_failure, base)
            if entry["status"] == "flaky" and status == "fail":
                counts["failures"] += 1
                etree.SubElement(test, "failure", message=_headline(f"flaky ([run] flaky_is_failure): {message}")
                                 ).text = _clean(forensics.attempts_text(case))[:4000]
            elif status == "fail":
                counts["failures"] += 1
                etree.SubElement(test, "failure", message=_headline(message)).text = \
                    message + "\n" + _clean(json.dumps(entry.get("evidence"), default=str))[:4000]
            elif status == "error":
                counts["errors"] += 1
                etree.SubElement(test, "error", message=_headline(message)).text = message
            elif status in ("skip", "not-run"):
                counts["skipped"] += 1
                etree.SubElement(test, "skipped", message=message)
            forensics.junit_artifacts(test, entry.get("artifacts"), base)
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _junit_properties(report: dict):
    cert = report["certification"]
    yield "certification", cert["verdict"]
    yield "certification_level", cert["level"]
    yield "headline", cert["headline"]
    for level, row in cert["levels"].items():
        yield f"level.{level}", f"{row['pass']}/{row['checked']} passed" + "".join(
            f", {row[k]} {k}" for k in ("flaky", "fail", "error", "skip", "not-run", "n/a") if row.get(k))
    if cert.get("flaky"):
        yield "flaky", (f"{cert['flaky']} cases passed only on a rerun; [run] flaky_is_failure = "
                        f"{str(cert.get('flaky_is_failure', True)).lower()}")
    for number, skip in enumerate(cert["skipped"], 1):
        yield f"skipped.{number}", f"{skip['cases']} cases, {skip['level']}: {skip['reason']}"
    if cert["interrupted"]:
        yield "interrupted", f"{cert['interrupted']['signal']} after {cert['interrupted']['after_seconds']} s"


BANNER_COLOURS = {"certified": "#2e7d32", "not certified": "#c62828", "interrupted": "#ef6c00"}

CSS = """body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}
td span{display:inline-block;padding:1px 6px;margin:1px;border-radius:3px;color:#fff}
pre{white-space:pre-wrap;max-width:100em;font-size:85%;background:#f6f6f6;padding:4px}
.verdict{font-weight:bold}"""


def _badge(status: str, count: int | None = None) -> str:
    label = f"{status} {count}" if count is not None else status
    return f'<span style="background:{STATUS_COLOURS[status]}">{html.escape(label)}</span>'


def _operations_table(report: dict) -> str:
    """Cases grouped by lifecycle operation (a row per operation of the certified cases)."""
    rows = "".join(
        f"<tr><th>{e(op)}</th>" + "".join(
            f"<td>{''.join(_badge(s, row[lvl][s]) for s in STATUS_COLOURS if row[lvl].get(s))}</td>"
            for lvl in LEVELS) + "</tr>"
        for op, row in report.get("operations", {}).items())
    return ("<h2>Operation &times; level</h2><table id='operations'><tr><th>operation</th>"
            + "".join(f"<th>{lvl}</th>" for lvl in LEVELS) + f"</tr>{rows}</table>")


def _levels_table(cert: dict) -> str:
    rows = "".join(
        f"<tr><th>{e(level)}</th><td>{row['pass']}/{row['checked']}</td>"
        f"<td>{''.join(_badge(k, row[k]) for k in ('flaky', 'fail', 'error', 'skip', 'not-run', 'n/a') if row.get(k))}</td></tr>"
        for level, row in cert["levels"].items())
    skips = "".join(f"<li>{s['cases']} cases, level {e(s['level'])}: {e(s['reason'])}</li>" for s in cert["skipped"])
    return (f"<table id='levels'><tr><th>level</th><th>verified</th><th>not verified</th></tr>{rows}</table>"
            + (f"<p>Skipped checks:</p><ul id='skips'>{skips}</ul>" if skips else ""))


e = html.escape


def _case_detail(case: dict) -> str:
    """A failed or flaky case: each level that did not pass (reason, evidence), its
    artefacts (a link per file) and its attempts."""
    out = [f"<h3 id='case-{e(case['id'], quote=True)}'>{e(case['feature'])} / {e(case['name'])} "
           f"<small>{e(case['id'])}</small> {_badge(case['verdict'])}</h3>"]
    for level in LEVELS:
        entry = case["levels"][level]
        if entry["status"] in ("fail", "error", "flaky"):
            evidence = json.dumps(entry.get("evidence"), indent=1, default=str)[:6000]
            out.append(f"<p>{_badge(entry['status'])} level {level}</p><pre>{e(entry['reason'][:6000])}</pre>"
                       f"<pre>{e(evidence)}</pre>")
    out.append(forensics.html_artifacts(case.get("artifacts") or []))
    out.append(forensics.html_attempts(case))
    return "".join(out)


def write_html(report: dict, path: Path) -> None:
    """A self-contained page (inline CSS, no scripts): matrix, failures, then every case."""
    e = html.escape
    cert = report["certification"]
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Conformance: {e(report['driver'])}</title>",
           f"<style>{CSS}</style></head><body>",
           f"<h1>Conformance report: {e(report['driver'])}</h1>",
           f"<p class='verdict' id='verdict' data-verdict='{e(cert['verdict'], quote=True)}' "
           f"style='border-left:8px solid {BANNER_COLOURS[cert['verdict']]};padding-left:8px'>"
           f"{e(cert['headline'])}</p>",
           _levels_table(cert),
           f"<p>Accelerator: {e(report['host']['accelerator'])} ({e(report['host']['accelerator_reason'])}). "
           f"Started {e(report['started'])}, finished {e(report['finished'])}. Digest <code>{e(report['digest'])}</code></p>",
           "<h2>Feature &times; level</h2><table id='matrix'><tr><th>feature</th>"
           + "".join(f"<th>{lvl}</th>" for lvl in LEVELS) + "</tr>"]
    for feature, row in sorted(report["matrix"].items()):
        cells = []
        for level in LEVELS:
            counts = row[level]
            badges = "".join(_badge(s, counts[s]) for s in STATUS_COLOURS if counts.get(s))
            reasons = sorted({c["levels"][level]["reason"] for c in report["cases"]
                              if c["feature"] == feature and c["levels"][level]["status"] in ("skip", "n/a")})
            title = e("; ".join(reasons)[:1500], quote=True)
            cells.append(f"<td class='cell' title=\"{title}\">{badges}</td>")
        out.append(f"<tr><th>{e(feature)}</th>{''.join(cells)}</tr>")
    out.append("</table>")
    out.append(_operations_table(report))
    for title, section, verdicts in (("Failures", "failures", ("fail", "error")),
                                     ("Flaky: passed only on a rerun", "flaky", ("flaky",))):
        listed = [c for c in report["cases"] if c["verdict"] in verdicts]
        if section == "flaky" and not listed:
            continue
        out.append(f"<h2 id='{section}'>{title} ({len(listed)})</h2>")
        for case in listed:
            out.append(_case_detail(case))
    out.append("<h2>All cases</h2><table id='cases'><tr><th>id</th><th>feature</th><th>operation</th><th>case</th>"
               "<th>verdict</th><th>level reached</th>" + "".join(f"<th>{lvl}</th>" for lvl in LEVELS)
               + "<th>artefacts</th></tr>")
    for case in report["cases"]:
        cells = "".join(f"<td title=\"{e(case['levels'][lvl]['reason'][:500], quote=True)}\">"
                        f"{_badge(case['levels'][lvl]['status'])}</td>" for lvl in LEVELS)
        kept = [a for a in case.get("artifacts") or [] if "path" in a]
        link = (f"<a href='#case-{e(case['id'], quote=True)}'>{len(kept)} files</a>" if kept else "")
        out.append(f"<tr><td><code>{e(case['id'])}</code></td><td>{e(case['feature'])}</td>"
                   f"<td>{e(case.get('operation', 'create'))}</td><td>{e(case['name'])}</td><td>{_badge(case['verdict'])}</td>"
                   f"<td>{e(case['level_reached'])}</td>{cells}<td>{link}</td></tr>")
    out.append("</table></body></html>")
    path.write_text("\n".join(out), encoding="utf-8")
