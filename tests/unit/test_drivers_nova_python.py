"""worker_python() accepts only an interpreter that really imports upstream Nova."""

import importlib
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conformance.drivers import nova


@pytest.fixture(autouse=True)
def fresh_probe_cache(monkeypatch):
    nova.nova_version_of.cache_clear()
    monkeypatch.delenv(nova.PYTHON_ENV, raising=False)
    yield
    nova.nova_version_of.cache_clear()


@pytest.fixture
def fake_env(tmp_path):
    """A bare virtualenv (no pip) whose site-packages we fill by hand."""
    venv.create(tmp_path / "venv", with_pip=False)
    python = tmp_path / "venv" / "bin" / "python"
    site = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    return str(python), tmp_path.joinpath(site)


def test_the_suites_own_tests_nova_is_not_upstream_nova(monkeypatch, tmp_path):
    """The front-door bug: under pytest, tests/ is on sys.path and tests/nova looks like a
    package named nova; without .venv-nova that must be 'not found', not this interpreter."""
    monkeypatch.setattr(nova, "PROVISIONED", tmp_path / "absent" / "bin" / "python")
    try:
        importlib.import_module("nova.virt.libvirt.driver")
        pytest.skip(f"{sys.executable} has upstream Nova installed")
    except ImportError:
        pass
    with pytest.raises(ImportError) as exc:
        nova.worker_python()
    assert "upstream Nova not found" in str(exc.value)
    assert "./run tests" in str(exc.value)


def install_fake_nova(site, driver: bool = True, version: str | None = None) -> None:
    """A package ``nova`` in ``site``: with or without the libvirt driver module, and with
    or without an installed distribution's metadata."""
    (site / "nova" / "virt" / "libvirt").mkdir(parents=True)
    (site / "nova" / "__init__.py").write_text("")
    if driver:
        (site / "nova" / "virt" / "libvirt" / "driver.py").write_text("")
    if version:
        meta = site / f"nova-{version}.dist-info"
        meta.mkdir()
        (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: nova\nVersion: {version}\n")


def test_a_package_named_nova_without_the_libvirt_driver_is_refused(fake_env, monkeypatch):
    python, site = fake_env
    install_fake_nova(site, driver=False, version="34.0.0")
    monkeypatch.setenv(nova.PYTHON_ENV, python)
    with pytest.raises(ImportError, match="not upstream Nova"):
        nova.worker_python()


def test_the_driver_module_without_an_installed_distribution_is_refused(fake_env, monkeypatch):
    python, site = fake_env
    install_fake_nova(site)
    monkeypatch.setenv(nova.PYTHON_ENV, python)
    with pytest.raises(ImportError, match="has no upstream Nova"):
        nova.worker_python()


def test_an_installed_nova_distribution_is_accepted(fake_env, monkeypatch):
    python, site = fake_env
    install_fake_nova(site, version="34.0.0")
    monkeypatch.setenv(nova.PYTHON_ENV, python)
    assert nova.worker_python() == python
    assert nova.nova_version_of(python) == "34.0.0"


def test_configured_interpreter_that_is_not_executable(monkeypatch, tmp_path):
    monkeypatch.setenv(nova.PYTHON_ENV, str(tmp_path / "nope"))
    with pytest.raises(ImportError, match="CONFORMANCE_NOVA_PYTHON: .* not an executable"):
        nova.worker_python()


def test_provisioned_venv_is_preferred_over_this_interpreter(fake_env, monkeypatch):
    python, site = fake_env
    install_fake_nova(site, version="1.0")
    monkeypatch.setattr(nova, "PROVISIONED", Path(python))
    assert nova.worker_python() == python
    assert python != sys.executable
