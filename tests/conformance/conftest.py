"""Options and fixtures of the conformance suite: which driver is judged, libvirt for defineXML.

The driver is ``--driver SPEC`` (declared here, so it is recognised when tests/conformance is
named on the command line, e.g. ``pytest tests/conformance --driver exec:./my-driver``), else
the environment variable CONFORMANCE_DRIVER, else ``reference``.
"""

import os

import pytest

from conformance.drivers import load_driver
from conformance.errors import DriverLoadError


def pytest_addoption(parser):
    group = parser.getgroup("conformance-xml", "conformance catalogue (level 1, XML)")
    try:
        group.addoption("--driver", default=None, metavar="SPEC",
                        help="driver under test: reference, nova, module:attr, exec:COMMAND or "
                             "exec-stream:COMMAND "
                             "(default: $CONFORMANCE_DRIVER or reference)")
    except ValueError:  # already declared by the fixtures plugin
        pass


@pytest.fixture(scope="session")
def driver_spec(pytestconfig) -> str:
    return (pytestconfig.getoption("--driver", default=None)
            or os.environ.get("CONFORMANCE_DRIVER") or "reference")


@pytest.fixture(scope="session")
def driver(driver_spec):
    """The driver under test, loaded once per session (per xdist worker); closed at the end
    (an ``exec-stream:`` driver's process is stopped)."""
    try:
        driver = load_driver(driver_spec)
    except DriverLoadError as exc:
        pytest.exit(f"--driver {driver_spec!r}: {exc}", returncode=3)
    yield driver
    getattr(driver, "close", lambda: None)()


@pytest.fixture(scope="session")
def libvirt_conn():
    """A qemu:///system connection (for defineXML), or a skip naming what is missing."""
    try:
        import libvirt
    except ImportError:
        pytest.skip("libvirt-python is not installed")
    libvirt.registerErrorHandler(lambda *args: None, None)  # errors are raised, not printed
    try:
        conn = libvirt.open("qemu:///system")
    except libvirt.libvirtError as exc:
        pytest.skip(f"libvirt qemu:///system is not reachable: {exc.get_error_message()}")
    yield conn
    conn.close()
