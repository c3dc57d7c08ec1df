"""run_driver: Accepted / Rejection for good drivers, DriverFault (by kind) for misbehaviour."""

import pytest

from conformance.contract import Accepted, Rejected, Rejection, Request
from conformance.drivers import MAX_OUTPUT_BYTES, run_driver
from conformance.errors import DriverFault


class Returns:
    name = "returns"

    def __init__(self, value):
        self.value = value

    def build(self, request):
        return self.value


class Raises:
    name = "raises"

    def __init__(self, exc):
        self.exc = exc

    def build(self, request):
        raise self.exc


def fault_kind(driver) -> str:
    with pytest.raises(DriverFault) as exc:
        run_driver(driver, Request())
    return exc.value.kind


def test_accepted_xml():
    """A <domain> document is Accepted with the driver's text unchanged."""
    xml = "<domain type='qemu'><name>x</name></domain>"
    assert run_driver(Returns(xml), Request()) == Accepted(xml)


def test_known_rejection():
    """Rejected with a protocol code becomes a Rejection value."""
    outcome = run_driver(Raises(Rejected("LockMemoryForbidden", "no pages")), Request())
    assert outcome == Rejection("LockMemoryForbidden", "no pages")


@pytest.mark.parametrize("driver, kind", [
    (Raises(KeyError("boom")), "crash"),
    (Raises(Rejected("NotACode", "x")), "bad-rejection"),
    (Returns("hello, world"), "not-xml"),
    (Returns(""), "not-xml"),
    (Returns(None), "bad-output"),
    (Returns("<?xml version='1.0'?><network/>"), "not-domain"),
    (Returns("<d:domain xmlns:d='urn:x'/>"), "not-domain"),
    (Returns("<!DOCTYPE domain [<!ENTITY e 'x'>]><domain>&e;</domain>"), "unsafe"),
    (Returns("<!DOCTYPE domain SYSTEM 'http://example.invalid/x.dtd'><domain/>"), "unsafe"),
    (Returns("<domain>" + " " * MAX_OUTPUT_BYTES + "</domain>"), "bad-output"),
])
def test_misbehaviour_is_a_driver_fault(driver, kind):
    """Exceptions, unknown codes, junk, non-domains, DOCTYPEs and huge output are named faults."""
    assert fault_kind(driver) == kind


def test_crash_names_the_exception():
    """A crash fault carries the exception type and message."""
    with pytest.raises(DriverFault, match=r"crash.*KeyError: 'boom'"):
        run_driver(Raises(KeyError("boom")), Request())


def test_entities_are_never_expanded(tmp_path):
    """An external entity pointing at a local file is refused, its content never read."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xml = f"<!DOCTYPE domain [<!ENTITY s SYSTEM 'file://{secret}'>]><domain><name>&s;</name></domain>"
    with pytest.raises(DriverFault) as exc:
        run_driver(Returns(xml), Request())
    assert exc.value.kind == "unsafe" and "TOP-SECRET" not in str(exc.value)
