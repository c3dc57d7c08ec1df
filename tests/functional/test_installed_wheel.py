"""The wheel alone certifies, as a driver author's CI would use it: built from this
checkout, installed into a fresh virtualenv in a temporary directory (pip may use PyPI and
its cache), then ``conformance setup`` and ``conformance certify --driver exec2:...
--feature agent`` at full level, from a directory outside the checkout, in an environment
with only PATH and HOME. The installed suite is the one that runs."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
NOT_SHIPPED = (".git", ".venv", ".venv-nova", "results", "build", "*.egg-info", "__pycache__",
               ".hypothesis", ".pytest_cache", ".tox", ".build")


def run(argv, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{argv}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done


def test_wheel_in_a_fresh_virtualenv_certifies_from_elsewhere(tmp_path):
    source = tmp_path / "source"  # a copy: building in the checkout would leave build/ there
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SHIPPED))
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", tmp_path / "dist", source],
        timeout=600)
    wheel = next((tmp_path / "dist").glob("hv_conformance-*.whl"))
    shipped = zipfile.ZipFile(wheel).namelist()  # the project's test hosts stay in tests/support
    assert not [name for name in shipped if "testhost" in name or name.startswith(("support/", "tests/"))]
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv], timeout=120)
    run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel], timeout=900)
    elsewhere = tmp_path / "driver-repo"
    elsewhere.mkdir()
    clean = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path))}
    conformance = venv / "bin" / "conformance"
    run([conformance, "setup"], cwd=elsewhere, env=clean, timeout=1800)
    done = subprocess.run(
        [str(conformance), "certify", "--driver", f"exec2:{conformance} driver-exec reference",
         "--feature", "agent", "--output-dir", "out", "--no-progress"],
        cwd=elsewhere, env=clean, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((elsewhere / "out" / "report.json").read_text())
    assert report["certification"]["verdict"] == "certified"
    assert report["selection"]["max_level"] == "guest"
    assert any(c["levels"]["guest"]["status"] == "pass" for c in report["cases"])
    assert any(c["operation"] != "create" for c in report["cases"])  # exec2: lifecycle too
    junit = (elsewhere / "out" / "pytest-junit.xml").read_text()
    assert "conformance.suite.test_live_features" in junit and "tests.conformance" not in junit
