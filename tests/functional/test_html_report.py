"""The HTML report renders in a real headless browser and shows the feature x level matrix."""

import shutil
import subprocess
import tempfile

import pytest

from conformance.catalogue import CASES
from conformance.report import writers
from conformance.report.aggregate import aggregate, matrix
from conformance.report.headline import certification

pytestmark = pytest.mark.functional

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def sample_report():
    failing = next(c for c in CASES if c.feature == "rng")
    entries = [{"nodeid": "t", "when": "call", "outcome": "passed", "duration": 0.1, "detail": "",
                "cases": [c.id for c in CASES], "feature": None, "level": "xml", "evidence": None},
               {"nodeid": "t2", "when": "call", "outcome": "failed", "duration": 0.1,
                "detail": "rate <b>missing</b>", "cases": [failing.id], "feature": "rng",
                "level": "host", "evidence": {"expected": 1024, "actual": None}}]
    no_live = {c.id: "level 1 only in this sample" for c in CASES if c.id != failing.id}
    results = aggregate(entries, CASES, no_live, max_level="host")
    cert = certification(results, "host")
    summary = {k: sum(1 for r in results if r["verdict"] == k) for k in ("pass", "fail", "error", "skip")}
    summary.update(total=len(results), verdict=cert["verdict"], certification_level=cert["level"],
                   headline=cert["headline"])
    return writers.finish({"format": 1, "driver": "reference", "started": "s", "finished": "f",
                           "host": {"accelerator": "qemu", "accelerator_reason": "test"},
                           "versions": {}, "summary": summary, "matrix": matrix(results),
                           "cases": results, "certification": cert})


def test_html_report_renders_the_matrix_in_chromium(tmp_path):
    """Chromium's rendered DOM has the matrix with all six features and the failing case."""
    browser = shutil.which("chromium")
    if browser is None:
        pytest.skip("Debian package chromium is not installed (python3 -m conformance.host.bootstrap installs it)")
    page = tmp_path / "report.html"
    writers.write_html(sample_report(), page)
    with tempfile.TemporaryDirectory(prefix="cfm-chromium-") as profile:
        done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                               page.as_uri()], capture_output=True, text=True, timeout=120)
        shot = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                               f"--screenshot={tmp_path / 'shot.png'}", "--window-size=1200,900",
                               page.as_uri()], capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert 'id="matrix"' in dom
    for feature in ("agent", "watchdog", "rng", "pmu", "hidden_hypervisor", "locked_memory"):
        assert f"<th>{feature}</th>" in dom
    assert "NOT CERTIFIED" in dom
    assert "rate &lt;b&gt;missing&lt;/b&gt;" in dom
    assert shot.returncode == 0 and (tmp_path / "shot.png").stat().st_size > 5000
