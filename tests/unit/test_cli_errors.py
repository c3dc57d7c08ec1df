"""Bad input to the CLI: one clear line, a distinct exit code, no traceback."""

import os
import subprocess
import sys

import pytest


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd)


@pytest.mark.parametrize("driver, code, words", [
    ("nope", 3, "unknown driver spec"),
    ("no_such_module_xyz:driver", 3, "no_such_module_xyz"),
    ("exec:/nonexistent/driver", 3, "not found"),
    ("exec:{plain_file}", 3, "not executable"),
])
def test_bad_driver_specs(driver, code, words, tmp_path):
    """Unknown spec, missing module, missing or non-executable exec command: one line, exit 3."""
    plain = tmp_path / "driver.sh"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    done = cli("certify", "--driver", driver.format(plain_file=plain), "--level", "xml")
    assert done.returncode == code
    assert words in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreadable_config(tmp_path):
    """A missing or invalid --config file: one line, exit code 4."""
    broken = tmp_path / "broken.conf"
    broken.write_text("this is not [ini\n")
    for path in (str(tmp_path / "missing.conf"), str(broken)):
        done = cli("certify", "--config", path, "--level", "xml")
        assert done.returncode == 4
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_selection_errors_are_usage_errors(tmp_path):
    """An unknown feature, a bad regex or an unreadable list is one line and exit code 2."""
    for args in (["--feature", "nosuch"], ["--regex", "("], ["--include-list", str(tmp_path / "none")]):
        done = cli("certify", "--driver", "reference", "--level", "xml", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_failing_driver_import(tmp_path):
    """A driver module that raises on import: one line naming the error, exit code 3."""
    (tmp_path / "boommod.py").write_text('raise RuntimeError("boom at import")\n')
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver",
                           "boommod:driver", "--level", "xml"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.returncode == 3
    assert "boom at import" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_verify_report_on_garbage(tmp_path):
    """verify-report: unreadable JSON is exit 2, a wrong digest is exit 1."""
    junk = tmp_path / "r.json"
    junk.write_text("{not json")
    assert cli("verify-report", str(junk)).returncode == 2
    junk.write_text('{"digest": "sha256:00"}')
    assert cli("verify-report", str(junk)).returncode == 1
