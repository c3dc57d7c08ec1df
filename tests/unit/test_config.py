"""Configuration: lookup order, values, validation (one named error, exit code 4)."""

import pytest

from conformance import config as config_mod
from conformance.config import ConfigError, load


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def test_defaults_without_any_file(tmp_path, monkeypatch):
    """No file anywhere: built-in defaults, every feature on 'auto'."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFORMANCE_CONFIG", raising=False)
    monkeypatch.setattr(config_mod, "SEARCH", ("etc/conformance.conf",))
    loaded = load()
    assert loaded.path is None and loaded.libvirt_uri == "qemu:///system"
    assert loaded.enabled_features == list(config_mod.FEATURES) and loaded.required_features == []


def test_lookup_order(tmp_path, monkeypatch):
    """--config beats $CONFORMANCE_CONFIG, which beats ./etc/conformance.conf."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONFORMANCE_CONFIG", raising=False)
    local = write(tmp_path / "etc/conformance.conf", "[libvirt]\nuri = qemu:///local\n")
    env = write(tmp_path / "env.conf", "[libvirt]\nuri = qemu:///env\n")
    explicit = write(tmp_path / "explicit.conf", "[libvirt]\nuri = qemu:///explicit\n")
    assert (load().path, load().libvirt_uri) == ("etc/conformance.conf", "qemu:///local")
    monkeypatch.setenv("CONFORMANCE_CONFIG", env)
    assert load().libvirt_uri == "qemu:///env"
    assert load(explicit).libvirt_uri == "qemu:///explicit"
    assert local


def test_values(tmp_path):
    """Every section is read: uri, run, host, timeouts, tri-state features."""
    loaded = load(write(tmp_path / "c.conf", (
        "[libvirt]\nuri = qemu:///session\n[run]\nparallel = 3\naccel = qemu\n"
        "[host]\nrng_dev_path = /dev/hwrng\n[timeouts]\nboot = 90\nagent = 45\nwatchdog = 20\n"
        "exec_driver = 5\n[features]\npmu = false\nrng = true\nagent = auto\n")))
    assert (loaded.libvirt_uri, loaded.parallel, loaded.accel) == ("qemu:///session", 3, "qemu")
    assert loaded.rng_dev_path == "/dev/hwrng"
    assert (loaded.boot_timeout, loaded.agent_timeout, loaded.watchdog_timeout,
            loaded.exec_driver_timeout) == (90, 45, 20, 5)
    assert "pmu" not in loaded.enabled_features and "agent" in loaded.enabled_features
    assert loaded.required_features == ["rng"]


@pytest.mark.parametrize("text, words", [
    ("[features]\nbogus = true\n", "unknown feature"),
    ("[features]\npmu = maybe\n", "true, false or auto"),
    ("[run]\nparallel = two\n", "must be a number"),
    ("[run]\nparallel = 0\n", "at least 1"),
    ("[run]\naccel = xen\n", "accel must be"),
    ("[timeouts]\nboot = -1\n", "must be positive"),
    ("not ini at all\n", "not valid INI"),
])
def test_invalid_values_are_named(tmp_path, text, words):
    """Each invalid value is one ConfigError naming the key (exit code 4)."""
    with pytest.raises(ConfigError, match=words) as caught:
        load(write(tmp_path / "bad.conf", text))
    assert caught.value.exit_code == 4


def test_example_config_loads():
    """etc/conformance.conf.example is itself a valid config."""
    from pathlib import Path
    example = Path(__file__).resolve().parents[2] / "etc" / "conformance.conf.example"
    assert load(str(example)).path == str(example)
