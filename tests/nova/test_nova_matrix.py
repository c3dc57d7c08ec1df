"""`conformance matrix` end to end on a Nova release provisioned here, and a release that
cannot be installed (its row names pip's error)."""

import json
import subprocess
import sys

import pytest

from conformance.drivers import nova_versions

RELEASE = "34.0.0"


def matrix(tmp_path, *argv):
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "matrix", *argv,
                           "--output-dir", str(tmp_path)], capture_output=True, text=True, timeout=900)
    return done, json.loads((tmp_path / "matrix.json").read_text())


def test_one_release_at_level_xml(tmp_path):
    """A cached release certifies one feature; the row counts it and matches its notes."""
    if not nova_versions._ready(nova_versions.CACHE / RELEASE, RELEASE):
        pytest.skip(f"nova {RELEASE} is not provisioned in {nova_versions.CACHE}; "
                    f"`./run matrix --nova {RELEASE}` installs it")
    done, table = matrix(tmp_path, "--nova", RELEASE, "--feature", "pmu")
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = table["releases"]
    # 19 create (two on q35) + 10 protocol-2 + 8 protocol-3 lifecycle cases
    assert row["status"] == "ran" and row["features"] == {
        "pmu": {"pass": 37, "fail": 0, "error": 0, "skip": 0, "not-run": 0, "total": 37}}
    assert row["notes"]["matches"] and row["wall_seconds"]["certify"] > 0
    assert (tmp_path / f"nova-{RELEASE}" / "report.subunit").is_file()
    assert f"data-release='{RELEASE}'" in (tmp_path / "matrix.html").read_text()


def test_a_release_that_does_not_exist_is_a_row_with_pips_error(tmp_path):
    done, table = matrix(tmp_path, "--nova", "0.0.1", "--feature", "pmu")
    assert done.returncode == 1
    (row,) = table["releases"]
    assert row["status"] == "does not install"
    assert "nova==0.0.1" in row["error"] and "No matching distribution" in row["error"]
    assert not (nova_versions.CACHE / "0.0.1").exists()
