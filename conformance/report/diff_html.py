"""The html page of ``conformance diff`` (:mod:`conformance.report.diff`): a table per kind of
change, a row per case and level, links to the new report's artefacts of a new failure and
to the case in each report's page. Every text is escaped; links are relative to the page."""

from __future__ import annotations

import html
import os
from pathlib import Path
from urllib.parse import quote

from conformance.report.writers import CSS, STATUS_COLOURS

e = html.escape


def _badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#607d8b")
    return f'<span style="background:{colour}">{e(status)}</span>'


def _link(page: Path, target: Path, text: str, fragment: str = "") -> str:
    relative = os.path.relpath(target.resolve(), page.resolve().parent)
    anchor = f"#{quote(fragment)}" if fragment else ""
    return f"<a href=\"{e(quote(Path(relative).as_posix()) + anchor, quote=True)}\">{e(text)}</a>"


def _case_page(side, level: str) -> Path:
    """The report.html holding the case's level (a fleet: its host's page)."""
    if side.kind == "fleet" and ":" in level:
        return side.path.parent / "hosts" / level.split(":", 1)[0] / "report.html"
    return side.path.parent / "report.html"


def write_html(page: Path, old, new, changes, regressions) -> None:
    page = Path(page)
    bad = {c.case for c in regressions}
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>conformance diff</title>",
           f"<style>{CSS}</style></head><body><h1>conformance diff</h1>",
           f"<p>old: {e(str(old.path))} ({e(old.driver)}, {e(old.verdict)})<br>"
           f"new: {e(str(new.path))} ({e(new.driver)}, {e(new.verdict)})</p>",
           f"<p class='verdict' id='verdict' data-regressions='{len(bad)}'>"
           + (f"REGRESSION: {len(bad)} case(s)" if bad else "no regression") + "</p>"]
    if not changes:
        out.append("<p>no change</p>")
    for kind in dict.fromkeys(c.kind for c in changes):
        some = [c for c in changes if c.kind == kind]
        out.append(f"<h2 id='{e(kind.replace(' ', '-'), quote=True)}'>{e(kind)} "
                   f"({len({c.case for c in some})} case(s))</h2>")
        out.append("<table><tr><th>case</th><th>level</th><th>old</th><th>new</th><th>reason</th>"
                   "<th>artefacts</th></tr>")
        for c in some:
            fragment = f"case-{c.case}"
            links = [_link(page, _case_page(side, c.level), name, fragment)
                     for side, name in ((old, "old"), (new, "new")) if c.case in side.cases]
            files = " ".join(_link(page, new.path.parent / path, path.rsplit("/", 1)[-1])
                             for path in c.artifacts)
            out.append(f"<tr id='{e(fragment + '-' + c.level, quote=True)}'><td>{e(c.label)}<br>"
                       f"<small>id-{e(c.case)}</small> {' '.join(links)}</td><td>{e(c.level)}</td>"
                       f"<td>{_badge(c.old)}</td><td>{_badge(c.new)}</td>"
                       f"<td>{e(' '.join(c.reason.split())[:500])}</td><td>{files}</td></tr>")
        out.append("</table>")
    out.append("</body></html>")
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(out))
