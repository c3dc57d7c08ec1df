"""Bad input to the CLI: one clear line, a distinct exit code, no traceback."""

import subprocess
import sys

import pytest

from conformance import config as config_mod


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
    plain = tmp_path / "driver.sh"
    plain.write_text("#!/bin/sh\n")
    plain.chmod(0o644)
    done = cli("certify", "--driver", driver.format(plain_file=plain), "--level", "xml")
    assert done.returncode == code
    assert words in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreadable_config(tmp_path):
    broken = tmp_path / "broken.conf"
    broken.write_text("this is not [ini\n")
    for path in (str(tmp_path / "missing.conf"), str(broken)):
        done = cli("certify", "--config", path, "--level", "xml")
        assert done.returncode == 4
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_config_values_and_overrides(tmp_path):
    path = tmp_path / "c.conf"
    path.write_text("[libvirt]\nuri = qemu:///session\n[run]\nparallel = 3\n[features]\npmu = false\n")
    loaded = config_mod.load(str(path))
    assert (loaded.libvirt_uri, loaded.parallel) == ("qemu:///session", 3)
    assert "pmu" not in loaded.enabled_features
    path.write_text("[features]\nbogus = true\n")
    with pytest.raises(config_mod.ConfigError, match="unknown feature"):
        config_mod.load(str(path))


def test_verify_report_on_garbage(tmp_path):
    junk = tmp_path / "r.json"
    junk.write_text("{not json")
    assert cli("verify-report", str(junk)).returncode == 2
    junk.write_text('{"digest": "sha256:00"}')
    assert cli("verify-report", str(junk)).returncode == 1
