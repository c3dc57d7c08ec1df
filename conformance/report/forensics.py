"""How the reports show what debugs a failure: a case's artefacts and its attempts.

Artefact entries (:mod:`conformance.report.artifacts`) link files by a path relative to the
report directory; a fleet's reports put ``hosts/<label>/`` in front (``base``). report.html
links every file of a case (escaped), junit.xml lists them as ``[[ATTACHMENT|path]]`` lines
in ``<system-out>`` (the convention of Jenkins' and GitLab's JUnit readers) and as testcase
properties, report.subunit carries their content as attachments (:func:`subunit_files`).
A case certify reran (``--rerun-failures``) keeps every attempt: junit.xml shows a flaky
level as Maven Surefire does (``<flakyFailure>``/``<flakyError>`` per failed attempt in a
passed test, or a ``<failure>`` when ``[run] flaky_is_failure``), and the later failed
attempts of a case that never passed as ``<rerunFailure>``/``<rerunError>``.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import quote

from lxml import etree

from conformance.report.artifacts import KiB, MiB, describe, mime_type, read_linked

e = html.escape
SUBUNIT_BUDGET = 64 * MiB  # artefact bytes one subunit stream embeds (each file once)


def _clean(text) -> str:
    text = "" if text is None else str(text)
    return "".join(c if c in "\t\n\r" or ord(c) >= 32 else f"\\x{ord(c):02x}" for c in text)


def href(path: str, base: str = "") -> str:
    """An attribute-safe relative link to ``base + path``."""
    return e(quote(base + path), quote=True)


def html_artifacts(entries: list[dict], base: str = "") -> str:
    """A list of the artefacts (a link per file, grouped by snapshot directory)."""
    if not entries:
        return ""
    groups: dict[str, list[dict]] = {}
    for item in entries:
        where = item["path"].rsplit("/", 1)[0] if "path" in item else "not kept"
        groups.setdefault(where, []).append(item)
    rows = []
    for where, items in groups.items():
        links = []
        for item in items:
            if "path" in item:
                cut = f", cut at {item['limit'] // KiB} KiB" if item.get("truncated") else ""
                links.append(f"<a href=\"{href(item['path'], base)}\" title=\"{e(item['what'], quote=True)}\">"
                             f"{e(item['name'])}</a> <small>({item.get('bytes', 0)} bytes{cut})</small>")
            else:
                links.append(f"{e(item['name'])} <small>(not kept: {e(item.get('unavailable', ''))})</small>")
        guest = next((i.get("guest") for i in items if i.get("guest")), None)
        label = e(where) + (f" <small>guest {e(guest)}</small>" if guest else "")
        rows.append(f"<li>{label}: {', '.join(links)}</li>")
    return f"<p>Artefacts:</p><ul class='artifacts'>{''.join(rows)}</ul>"


def html_attempts(case: dict) -> str:
    """A table of the case's attempts (certify --rerun-failures)."""
    attempts = case.get("attempts") or []
    if not attempts:
        return ""
    rows = []
    for attempt in attempts:
        levels = "".join(f"<td>{e(attempt['levels'][lvl]['status'])}</td>" for lvl in ("xml", "host", "guest"))
        reason = (attempt.get("reason") or "")[:1500]
        rows.append(f"<tr><th>{attempt['attempt']}</th><td>{e(attempt['verdict'])}</td>{levels}"
                    f"<td><pre>{e(reason)}</pre>{html_artifacts(attempt.get('artifacts') or [])}</td></tr>")
    return ("<table class='attempts'><tr><th>attempt</th><th>verdict</th><th>xml</th><th>host</th>"
            f"<th>guest</th><th>reason, artefacts</th></tr>{''.join(rows)}</table>")


def attempts_text(case: dict) -> str:
    return "\n".join(f"attempt {a['attempt']}: {a['verdict']} "
                     + ", ".join(f"{lvl} {a['levels'][lvl]['status']}" for lvl in ("xml", "host", "guest"))
                     + (f": {a['reason']}" if a.get("reason") else "")
                     for a in case.get("attempts") or [])


def junit_extras(test, case: dict, level: str, entry: dict, flaky_is_failure: bool, base: str = "") -> str:
    """Add the level's attempts and artefacts to the <testcase> ``test``; returns the status
    the testcase shows (flaky: ``fail`` or ``pass``, per ``flaky_is_failure``)."""
    status = entry["status"]
    failed = [a for a in case.get("attempts") or [] if a["levels"][level]["status"] in ("fail", "error")]
    if status == "flaky":
        if not flaky_is_failure:
            for attempt in failed:
                kind = "flakyError" if attempt["levels"][level]["status"] == "error" else "flakyFailure"
                _attempt_element(test, kind, attempt, level)
        status = "fail" if flaky_is_failure else "pass"
    elif status in ("fail", "error"):
        for attempt in failed[1:]:
            kind = "rerunError" if attempt["levels"][level]["status"] == "error" else "rerunFailure"
            _attempt_element(test, kind, attempt, level)
    return status


def _attempt_element(test, kind: str, attempt: dict, level: str) -> None:
    reason = _clean(attempt["levels"][level].get("reason") or attempt.get("reason") or "")
    element = etree.SubElement(test, kind, message=f"attempt {attempt['attempt']}: {reason.splitlines()[0] if reason else ''}"[:500])
    etree.SubElement(element, "stackTrace").text = reason[:4000]


def junit_artifacts(test, entries: list[dict], base: str = "") -> None:
    """``[[ATTACHMENT|path]]`` lines in <system-out> and an ``artifact`` property per file."""
    kept = [item for item in entries or () if "path" in item]
    if not entries:
        return
    props = etree.Element("properties")
    for item in kept:
        etree.SubElement(props, "property", name=f"artifact:{item['name']}", value=_clean(base + item["path"]))
    if kept:
        test.insert(0, props)
    out = etree.SubElement(test, "system-out")
    out.text = "\n".join([f"[[ATTACHMENT|{_clean(base + item['path'])}]]" for item in kept]
                         + [_clean(describe(item)) for item in entries]) + "\n"


class SubunitFiles:
    """Artefact attachments of one subunit stream: each file's content once (its first test),
    within :data:`SUBUNIT_BUDGET`; every test lists its artefacts in a text attachment."""

    def __init__(self, base: Path, prefix: str = ""):
        self.base, self.prefix, self.sent, self.left = Path(base), prefix, set(), SUBUNIT_BUDGET

    def attachments(self, entries: list[dict]):
        """(name, mime, bytes) for ``entries``."""
        if not entries:
            return
        lines = []
        for item in entries:
            line = describe(item)
            if "path" in item:
                name = self.prefix + item["path"]
                if item["path"] in self.sent:
                    line += " (content attached to an earlier test of this stream)"
                else:
                    data = read_linked(self.base, item["path"], min(self.left, 4 * MiB))
                    if data is not None and self.left > 0:
                        self.sent.add(item["path"])
                        self.left -= len(data)
                        yield name, mime_type(item["name"]), data
                    else:
                        line += " (content not attached: missing, or the stream's budget is used up)"
            lines.append(self.prefix + line)
        yield "artifacts", "text/plain; charset=utf8", "\n".join(lines).encode()
