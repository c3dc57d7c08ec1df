"""Driver specs: reference, module:attr (object, class, factory), exec:COMMAND, nova."""

import subprocess
import sys
import types

import pytest

from conformance.drivers import load_driver
from conformance.drivers.exec import ExecDriver
from conformance.errors import DriverLoadError
from conformance.reference import ReferenceDriver


class _Driver:
    name = "fake"

    def build(self, request):
        return "<domain/>"


@pytest.fixture
def fake_module(monkeypatch):
    module = types.ModuleType("cfm_fake_drivers")
    module.instance = _Driver()
    module.Klass = _Driver
    module.factory = lambda: _Driver()
    module.nested = types.SimpleNamespace(driver=_Driver())
    module.not_a_driver = 42
    module.failing_factory = lambda: 1 / 0
    monkeypatch.setitem(sys.modules, "cfm_fake_drivers", module)
    return module


def test_reference():
    """'reference' loads the reference driver, named 'reference'."""
    driver = load_driver("reference")
    assert isinstance(driver, ReferenceDriver) and driver.name == "reference"


def test_module_attr_object(fake_module):
    """module:attr naming a driver object returns that very object."""
    assert load_driver("cfm_fake_drivers:instance") is fake_module.instance


@pytest.mark.parametrize("attr", ["Klass", "factory", "nested.driver"])
def test_module_attr_class_factory_dotted(fake_module, attr):
    """A class is instantiated, a factory called, a dotted attribute followed."""
    assert isinstance(load_driver(f"cfm_fake_drivers:{attr}"), _Driver)


@pytest.mark.parametrize("spec, message", [
    ("cfm_no_such_module_xyz:driver", "cannot import driver module 'cfm_no_such_module_xyz': ModuleNotFoundError"),
    ("cfm_fake_drivers:missing", "has no attribute 'missing'"),
    ("cfm_fake_drivers:not_a_driver", "is not a driver"),
    ("cfm_fake_drivers:failing_factory", "cannot create driver 'cfm_fake_drivers:failing_factory': "
                                         "ZeroDivisionError"),
    ("cfm_fake_drivers:", "expected 'module:attr'"),
    ("bogus", "unknown driver spec 'bogus'"),
    ("exec:", "has no command"),
    ("exec:cfm-no-such-program-xyz --x", "not found on PATH: cfm-no-such-program-xyz"),
    ("exec:/nonexistent/driver", "command not found: /nonexistent/driver"),
    ("exec:'unbalanced", "cannot parse exec command"),
])
def test_bad_specs_fail_with_one_clear_line(fake_module, spec, message):
    """Every unloadable spec raises DriverLoadError with a one-line message naming the problem."""
    with pytest.raises(DriverLoadError) as exc:
        load_driver(spec)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_exec_program_not_executable(tmp_path):
    """A program path without the execute bit is refused at load time."""
    program = tmp_path / "driver.sh"
    program.write_text("#!/bin/sh\n")
    with pytest.raises(DriverLoadError, match="not executable"):
        load_driver(f"exec:{program}")


def test_import_error_inside_module_is_a_load_error(tmp_path, monkeypatch):
    """A module that raises while being imported gives DriverLoadError, not a traceback."""
    (tmp_path / "cfm_broken_import.py").write_text("import cfm_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DriverLoadError, match="cfm_missing_dependency_xyz"):
        load_driver("cfm_broken_import:driver")


def test_exec_spec_is_shell_split():
    """exec:COMMAND is split like a shell would; the driver is named after the command."""
    driver = load_driver(f"exec:{sys.executable} -m conformance.cli driver-exec 'reference'",
                         exec_timeout=5)
    assert isinstance(driver, ExecDriver)
    assert driver.argv == [sys.executable, "-m", "conformance.cli", "driver-exec", "reference"]
    assert driver.timeout == 5 and driver.name.startswith("exec:")


def test_nova_is_imported_lazily():
    """Loading other drivers never imports conformance.drivers.nova (nova is an optional extra)."""
    code = ("import sys; from conformance.drivers import load_driver; load_driver('reference'); "
            "print('conformance.drivers.nova' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_missing_nova_is_a_load_error(monkeypatch):
    """'nova' without the module (or its dependencies) raises DriverLoadError naming the extra."""
    import conformance.drivers.load as load

    monkeypatch.setitem(sys.modules, "conformance.drivers.nova", None)  # import -> ImportError
    with pytest.raises(DriverLoadError, match="driver 'nova' is unavailable"):
        load._load_nova()


def test_nova_module_exposing_a_driver(monkeypatch):
    """A conformance.drivers.nova module exposing NovaDriver is loaded by 'nova'."""
    module = types.ModuleType("conformance.drivers.nova")
    module.NovaDriver = _Driver
    monkeypatch.setitem(sys.modules, "conformance.drivers.nova", module)
    assert isinstance(load_driver("nova"), _Driver)
