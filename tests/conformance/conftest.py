"""Options and fixtures of the conformance suite: which driver is judged, libvirt for defineXML."""

import pytest

from conformance.drivers import load_driver
from conformance.errors import DriverLoadError


def pytest_addoption(parser):
    group = parser.getgroup("conformance-xml", "conformance catalogue (level 1, XML)")
    try:
        group.addoption("--driver", default="reference", metavar="SPEC",
                        help="driver under test: reference, nova, module:attr or exec:COMMAND "
                             "(default: reference)")
    except ValueError:  # already declared by the fixtures plugin
        pass


@pytest.fixture(scope="session")
def driver_spec(pytestconfig) -> str:
    return pytestconfig.getoption("--driver", default="reference")


@pytest.fixture(scope="session")
def driver(driver_spec):
    """The driver under test, loaded once per session."""
    try:
        return load_driver(driver_spec)
    except DriverLoadError as exc:
        pytest.exit(f"--driver {driver_spec!r}: {exc}", returncode=3)


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
