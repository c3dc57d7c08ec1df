"""Write a fleet report four ways: report.json (digested, schema-checked), junit.xml (one
<testsuite> per host), report.html (verdict, differences, case x host matrix) and
report.subunit (every host's tests, ids prefixed ``<label>.``)."""

from __future__ import annotations

import html
from pathlib import Path

from lxml import etree
from subunit import StreamResultToBytes

from conformance.report import forensics, subunit_stream, writers

e = html.escape


def finish(fleet: dict) -> dict:
    """Add the digest and validate against the fleet schema (raises jsonschema.ValidationError)."""
    return writers.finish(fleet, "fleet-schema.json")


def write_all(body: dict, reports: dict[str, dict], out: Path) -> dict:
    """The four fleet reports in ``out`` from ``body`` (no digest yet) and the hosts'
    finished reports (label -> report); returns the finished fleet report."""
    fleet = finish(body)
    writers.write_json(fleet, out / "report.json")
    write_junit(fleet, reports, out / "junit.xml")
    write_html(fleet, out / "report.html")
    write_subunit(fleet, reports, out / "report.subunit")
    return fleet


def _fleet_properties(fleet: dict):
    cert = fleet["certification"]
    yield "fleet.certification", cert["verdict"]
    yield "fleet.certification_level", cert["level"]
    yield "fleet.headline", cert["headline"]
    yield "fleet.mode", fleet["mode"]
    yield "fleet.hosts", ", ".join(f"{h['label']}={h['uri']}" for h in fleet["hosts"])
    for number, diff in enumerate(fleet["differences"], 1):
        values = ", ".join(f"{label}: {value}" for label, value in diff["hosts"].items())
        why = diff.get("explained") or "UNEXPLAINED"
        yield f"fleet.difference.{number}", f"{diff['what']}: {values} ({why})"


def write_junit(fleet: dict, reports: dict[str, dict], path: Path) -> None:
    """<testsuites> holding each host's suite (as its own junit.xml, named ``...@label``),
    with the host's label, URI and accelerator and the fleet's verdict as properties."""
    root = etree.Element("testsuites", name=f"conformance[{writers._clean(fleet['driver'])}] fleet")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for host in fleet["hosts"]:
        extra = [("host.label", host["label"]), ("host.uri", host["uri"]),
                 ("host.accelerator", f"{host['accelerator']} ({host['accelerator_reason']})"),
                 ("host.report", host["report"]), *_fleet_properties(fleet)]
        suite = writers.junit_suite(reports[host["label"]],
                                    f"conformance[{writers._clean(fleet['driver'])}]@{host['label']}", extra,
                                    base=_host_base(host))
        suite.set("hostname", host["label"])
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key))
    for key, value in totals.items():
        root.set(key, str(value))
    etree.ElementTree(root).write(str(path), xml_declaration=True, encoding="utf-8", pretty_print=True)


def _host_base(host: dict) -> str:
    """The host's report directory relative to the fleet's (``hosts/<label>/``)."""
    return host["report"].rsplit("/", 1)[0] + "/"


def write_subunit(fleet: dict, reports: dict[str, dict], path: Path) -> None:
    """Every host's tests in one stream: id ``<label>.<feature>.<name>[<level>] id-<uuid>``,
    tag ``host:<label>`` besides the single-host tags; artefacts named by their path from
    the fleet directory (``hosts/<label>/artifacts/...``)."""
    with open(path, "wb") as stream:
        out = StreamResultToBytes(stream)
        for host in fleet["hosts"]:
            base = _host_base(host)
            files = forensics.SubunitFiles(path.parent / base, prefix=base)
            subunit_stream.emit(out, reports[host["label"]], prefix=f"{host['label']}.",
                                tags=(f"host:{host['label']}",), files=files)


def _hosts_table(fleet: dict) -> str:
    rows = "".join(
        f"<tr><th>{e(h['label'])}</th><td><code>{e(h['uri'])}</code></td>"
        f"<td>{e(h['accelerator'])} <small>({e(h['accelerator_reason'])})</small></td>"
        f"<td>{e(h['versions'].get('libvirt') or '?')} / {e(h['versions'].get('qemu') or '?')}</td>"
        f"<td class='verdict' data-verdict='{e(h['certification']['verdict'], quote=True)}' style='border-left:6px "
        f"solid {writers.BANNER_COLOURS[h['certification']['verdict']]}'>{e(h['certification']['headline'])}</td>"
        f"<td><a href='{e(h['report'].removesuffix('.json') + '.html', quote=True)}'>report</a></td></tr>"
        for h in fleet["hosts"])
    return ("<h2>Hosts</h2><table id='hosts'><tr><th>host</th><th>libvirt URI</th><th>accelerator</th>"
            f"<th>libvirt / QEMU</th><th>certification</th><th></th></tr>{rows}</table>")


def _differences(fleet: dict) -> str:
    if not fleet["differences"]:
        return "<h2>Differences</h2><p id='differences'>The hosts do not differ.</p>"
    items = "".join(
        f"<li data-kind='{e(d['kind'], quote=True)}'><b>{e(d['what'])}</b>: "
        + "; ".join(f"{e(label)}: {e(value)}" for label, value in d["hosts"].items())
        + f" <i class='why'>({e(d.get('explained') or 'unexplained')})</i></li>"
        for d in fleet["differences"])
    return f"<h2>Differences ({len(fleet['differences'])})</h2><ul id='differences'>{items}</ul>"


def _matrix(fleet: dict) -> str:
    labels = [h["label"] for h in fleet["hosts"]]
    rows = []
    for case in fleet["cases"]:
        cells = []
        for label in labels:
            found = case["hosts"].get(label)
            if found is None:
                cells.append("<td class='cell'>&mdash;</td>")
                continue
            link = ""
            if found.get("artifacts"):  # the host's page lists them, a link per file
                page = e(f"hosts/{label}/report.html#case-{case['id']}", quote=True)
                link = f" <a href=\"{page}\">{len(found['artifacts'])} artefacts</a>"
            cells.append(f"<td class='cell' title=\"{e(found['reason'], quote=True)}\">"
                         f"{writers._badge(found['verdict'])} <small>{e(found['level_reached'])}</small>{link}</td>")
        rows.append(f"<tr><td><code>{e(case['id'])}</code></td><td>{e(case['feature'])}</td>"
                    f"<td>{e(case['operation'])}</td><td>{e(case['name'])}</td>{''.join(cells)}</tr>")
    head = "".join(f"<th>{e(label)}</th>" for label in labels)
    return ("<h2>Case &times; host (verdict, level reached)</h2><table id='fleet-matrix'><tr><th>id</th>"
            f"<th>feature</th><th>operation</th><th>case</th>{head}</tr>{''.join(rows)}</table>")


def write_html(fleet: dict, path: Path) -> None:
    """A self-contained page: the fleet verdict, hosts, differences, case x host matrix."""
    cert = fleet["certification"]
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Fleet conformance: "
           f"{e(fleet['driver'])}</title><style>{writers.CSS}</style></head><body>",
           f"<h1>Fleet conformance report: {e(fleet['driver'])}</h1>",
           f"<p class='verdict' id='verdict' data-verdict='{e(cert['verdict'], quote=True)}' "
           f"style='border-left:8px solid {writers.BANNER_COLOURS[cert['verdict']]};padding-left:8px'>"
           f"{e(cert['headline'])}</p>",
           f"<p>Mode {e(fleet['mode'])}. Started {e(fleet['started'])}, finished {e(fleet['finished'])}. "
           f"Digest <code>{e(fleet['digest'])}</code></p>",
           _hosts_table(fleet), _differences(fleet), _matrix(fleet), "</body></html>"]
    path.write_text("\n".join(out), encoding="utf-8")
