"""``nova==VERSION``: specs, the cached per-release virtualenv (reused, never half-made),
the shipped upper-constraints, pip failures named."""

import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

from conformance.drivers import load_driver, nova, nova_versions
from conformance.errors import DriverLoadError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_probe_cache():
    nova.nova_version_of.cache_clear()
    yield
    nova.nova_version_of.cache_clear()


def _fake_release(venv_dir: Path, version: str) -> None:
    """A virtualenv whose site-packages hold a fake 'nova' distribution of ``version``."""
    venv.create(venv_dir, with_pip=False)
    python = venv_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "nova" / "virt" / "libvirt").mkdir(parents=True)
    (site / "nova" / "__init__.py").write_text("")
    (site / "nova" / "virt" / "libvirt" / "driver.py").write_text("")
    (site / f"nova-{version}.dist-info").mkdir()
    (site / f"nova-{version}.dist-info" / "METADATA").write_text(f"Name: nova\nVersion: {version}\n")


@pytest.mark.parametrize("spec,version", [("nova==33.0.2", "33.0.2"), ("nova@21.2.4", "21.2.4"),
                                          (" nova==34.0.0 ", "34.0.0"), ("nova", None),
                                          ("nova==34", None), ("nova==34.0.0;rm", None)])
def test_release_of(spec, version):
    assert nova_versions.release_of(spec) == version


def test_a_malformed_release_spec_is_a_load_error():
    with pytest.raises(DriverLoadError, match="nova==X.Y.Z"):
        load_driver("nova==34")


def test_a_ready_release_is_reused_without_pip(tmp_path, monkeypatch):
    _fake_release(tmp_path / "34.0.0", "34.0.0")
    (tmp_path / "34.0.0" / ".installed").write_text(nova_versions._marker("34.0.0") + "\n")
    monkeypatch.setattr(nova_versions, "_run", lambda *a, **k: pytest.fail("pip ran"))
    assert nova_versions.provision("34.0.0", tmp_path) == str(tmp_path / "34.0.0" / "bin" / "python")


def test_a_stale_marker_reinstalls(tmp_path, monkeypatch):
    """A virtualenv made for other packages or constraints is rebuilt, not trusted."""
    _fake_release(tmp_path / "34.0.0", "34.0.0")
    (tmp_path / "34.0.0" / ".installed").write_text("nova==34.0.0 something-else\n")
    calls = []

    def fake_run(argv, timeout, what):
        calls.append(argv)
        if "venv" in argv:
            _fake_release(Path(argv[-1]), "34.0.0")
    monkeypatch.setattr(nova_versions, "_run", fake_run)
    python = nova_versions.provision("34.0.0", tmp_path, log=open("/dev/null", "w"))
    assert len(calls) == 2 and "nova==34.0.0" in calls[1]
    assert nova.nova_version_of(python) == "34.0.0"
    assert (tmp_path / "34.0.0" / ".installed").read_text().strip() == nova_versions._marker("34.0.0")


def test_pip_failure_is_named_and_leaves_nothing(tmp_path, monkeypatch):
    def fake_run(argv, timeout, what):
        if "venv" in argv:
            Path(argv[-1]).mkdir()
            return
        raise nova_versions.NovaInstallError(f"{what} failed (exit 1): ERROR: No matching distribution")
    monkeypatch.setattr(nova_versions, "_run", fake_run)
    with pytest.raises(DriverLoadError, match="No matching distribution"):
        nova_versions.provision("99.0.0", tmp_path, log=open("/dev/null", "w"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".install.lock"]


def test_installed_but_another_version_is_refused(tmp_path, monkeypatch):
    def fake_run(argv, timeout, what):
        if "venv" in argv:
            _fake_release(Path(argv[-1]), "33.0.0")
    monkeypatch.setattr(nova_versions, "_run", fake_run)
    with pytest.raises(nova_versions.NovaInstallError, match="imports nova 33.0.0, not 33.0.2"):
        nova_versions.provision("33.0.2", tmp_path, log=open("/dev/null", "w"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".install.lock"]  # nothing half-made kept


def test_fixture_packages_are_pyprojects_nova_extra():
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["nova"]
    assert tuple(p for p in extra if not p.startswith("nova")) == nova_versions.FIXTURE_PACKAGES


def test_constraints_ship_for_every_series_and_never_pin_nova():
    for major, (series, ref) in nova_versions.SERIES.items():
        path = nova_versions.constraints(f"{major}.0.0")
        assert path is not None, series
        lines = path.read_text().splitlines()
        assert ref in lines[0] and len(lines) > 100
        assert not any(line.lower().startswith("nova=") for line in lines)
    assert nova_versions.constraints("34.0.0") is None  # newer than the shipped files


def test_constrained_releases_take_the_fixture_packages_at_the_series_versions():
    assert nova_versions.packages("25.3.0") == ["nova==25.3.0", "testtools", "wsgi-intercept"]
    assert nova_versions._pip_args("25.3.0")[-2:] == ["-c", str(nova_versions.constraints("25.3.0"))]
    assert nova_versions.packages("34.0.0") == ["nova==34.0.0", *nova_versions.FIXTURE_PACKAGES]
    assert "constraints:" in nova_versions._marker("25.3.0") and "constraints:" not in nova_versions._marker("34.0.0")


PIP_OUTPUT = """Collecting nova==26.3.0
Collecting Yappi>=1.0 (from oslo.service>=2.8.0->nova==26.3.0)
  Downloading yappi-1.3.6.tar.gz (58 kB)
WARNING: Location 'file:///opt/pypi/simple/yappi/' is ignored: it is neither a file nor a directory.
  error: subprocess-exited-with-error
  │ yappi/_yappi.c:123:20: error: 'PyThreadState' has no member named 'frame'
  │ error: command '/usr/bin/gcc' failed with exit code 1
  ERROR: Failed building wheel for Yappi
ERROR: Could not build wheels for Yappi, which is required to install pyproject.toml-based projects
"""


def test_why_pip_failed_names_the_package_and_the_compiler_error():
    why = nova_versions.why_pip_failed(PIP_OUTPUT)
    assert "collecting" not in why  # the ERROR lines name Yappi
    unnamed = nova_versions.why_pip_failed(PIP_OUTPUT.replace(" for Yappi", ""))
    assert unnamed.startswith("last collecting Yappi>=1.0 (from oslo.service")
    assert "'PyThreadState' has no member named 'frame'" in why
    assert "ERROR: Could not build wheels for Yappi" in why and "WARNING" not in why
    assert nova_versions.why_pip_failed("a\nb\n") == "a | b"


def test_a_hanging_install_is_killed_with_its_group(tmp_path):
    """A pip that outlives its deadline is killed with its children and named."""
    marker = tmp_path / "child-alive"
    script = f"sleep 30 & echo $! > {marker}; wait"
    with pytest.raises(nova_versions.NovaInstallError, match="took over 0.5 s"):
        nova_versions._run(["sh", "-c", script], 0.5, "pip install x")
    import time
    stat = Path(f"/proc/{int(marker.read_text())}/stat")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":  # killed, not yet reaped
                break
        except OSError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"{stat.parent.name}, a child of the killed install, survived")
