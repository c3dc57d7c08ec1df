"""The Nova release matrix table: per-feature counts, differences with their Nova source
line, version-notes verdicts, cross-release differences, HTML escaping."""

import json

from conformance.catalogue import CASES
from conformance.matrix import _version
from conformance.report import matrix_table
from conformance.report.aggregate import aggregate
from report_fakes import entry, report_of

LOCKED = next(c for c in CASES if c.since == "26.0.0")
PLAIN = next(c for c in CASES if c.since is None and c.feature == "rng")
TRACE = 'Traceback:\n  File "/v/site-packages/nova/virt/libvirt/driver.py", line 7049, in _add_rng_device\nValueError: x'


def _report(failing) -> dict:
    """A report of LOCKED and PLAIN at level xml; ``failing`` maps case -> failure detail."""
    failing = {c.id: detail for c, detail in failing}
    entries = [entry("xml", "failed" if c.id in failing else "passed", cases=[c.id],
                     detail=failing.get(c.id, ""), evidence={"observed": "<x/>"} if c.id in failing else None)
               for c in (LOCKED, PLAIN)]
    return report_of(aggregate(entries, [LOCKED, PLAIN], max_level="xml"))


def test_counts_per_feature_and_a_documented_difference():
    """A release older than a case's since may fail it: documented, the notes match."""
    row = matrix_table.release_row("25.3.0", "ran", _report([(LOCKED, "no <locked/>")]))
    assert row["features"][LOCKED.feature]["fail"] == 1 and row["features"]["rng"]["pass"] == 1
    assert row["notes"]["matches"] and row["notes"]["expected_differences"] == [LOCKED.id]
    assert row["differences"][0]["since"] == "26.0.0" and "Zed" in row["notes"]["notes_involved"][0]


def test_a_failure_at_or_after_since_is_undocumented_and_names_the_nova_line():
    row = matrix_table.release_row("26.0.0", "ran", _report([(LOCKED, "no <locked/>"), (PLAIN, TRACE)]))
    assert not row["notes"]["matches"]
    assert set(row["notes"]["undocumented_differences"]) == {LOCKED.id, PLAIN.id}
    diff = next(d for d in row["differences"] if d["id"] == PLAIN.id)
    assert diff["nova_source"] == "nova/virt/libvirt/driver.py:7049" and diff["level"] == "xml"


def test_a_pass_before_since_is_unexpected():
    row = matrix_table.release_row("25.3.0", "ran", _report([]))
    assert not row["notes"]["matches"] and row["notes"]["unexpected_passes"] == [LOCKED.id]


def test_table_orders_releases_newest_first_and_lists_cross_release_differences(tmp_path):
    rows = [matrix_table.release_row("9.0.0", "does not install", None, error="pip: <b>no</b>"),
            matrix_table.release_row("26.1.0", "ran", _report([(PLAIN, TRACE)])),
            matrix_table.release_row("100.0.0", "ran", _report([]))]
    table = matrix_table.table(rows, "xml", 1.0)
    assert [r["version"] for r in table["releases"]] == ["100.0.0", "26.1.0", "9.0.0"]
    assert table["differences"] == [{"id": PLAIN.id, "feature": "rng", "name": PLAIN.name, "since": None,
                                     "verdicts": {"100.0.0": "pass", "26.1.0": "fail"}}]
    matrix_table.write_json(table, tmp_path / "matrix.json")
    matrix_table.write_html(table, tmp_path / "matrix.html")
    assert json.loads((tmp_path / "matrix.json").read_text())["level"] == "xml"
    page = (tmp_path / "matrix.html").read_text()
    assert "<b>no</b>" not in page and "&lt;b&gt;no&lt;/b&gt;" in page
    assert "nova/virt/libvirt/driver.py:7049" in page and page.count("<tr data-release=") == 3


def test_release_versions_are_validated():
    import argparse
    import pytest
    assert _version("33.0.2") == "33.0.2"
    with pytest.raises(argparse.ArgumentTypeError):
        _version("33.x")
