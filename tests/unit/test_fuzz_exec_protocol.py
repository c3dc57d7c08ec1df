"""Fuzz: the exec driver protocol reader (exit code + stdout + stderr of a finished driver
process, then run_driver's checks) ends in Accepted, a Rejection or a DriverFault."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from conformance.contract import Accepted, Rejection, Request
from conformance.drivers import exec as exec_driver
from conformance.drivers.exec import Completed, ExecDriver, parse_rejection
from conformance.drivers.run import run_driver
from conformance.errors import DriverFault

FUZZ = settings(max_examples=300, deadline=None)
CODES = st.integers(min_value=-64, max_value=300) | st.sampled_from([0, 2])
STDOUT = st.binary(max_size=300) | st.sampled_from([
    b"<domain/>", b"<domain type='qemu'><name>x</name></domain>", b"<network/>",
    b'{"error": "InvalidWatchdogAction", "message": "no"}', b'{"error": "Bogus", "message": ""}',
    b"[" * 5000, b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><domain>&e;</domain>',
    b"\xff\xfe<domain/>"])


def answer(returncode, stdout, stderr=b""):
    """run_driver on an exec driver whose process 'printed' ``stdout`` and exited."""
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(exec_driver, "communicate",
                          lambda *a, **k: Completed(returncode, stdout, stderr))
            outcome = run_driver(ExecDriver(["driver"]), Request())
    except DriverFault as fault:
        assert fault.kind in {"crash", "timeout", "exit-code", "bad-output", "not-xml",
                              "not-domain", "bad-rejection", "unsafe"}
        return fault
    assert isinstance(outcome, (Accepted, Rejection))
    return outcome


@FUZZ
@given(CODES, STDOUT, st.binary(max_size=100))
def test_any_exit_code_and_output(returncode, stdout, stderr):
    """Any exit code with any stdout/stderr is an outcome or a named DriverFault."""
    answer(returncode, stdout, stderr)


@FUZZ
@given(st.dictionaries(st.sampled_from(["error", "message", "extra"]),
                       st.none() | st.integers() | st.text(max_size=30), max_size=3))
def test_exit_2_with_json_objects(document):
    """Exit 2 with any JSON object is a Rejection or a bad-rejection/bad-output fault."""
    answer(2, json.dumps(document).encode())


@pytest.mark.parametrize("stdout", [b"[" * 100000, b"<domain>" * 20000 + b"</domain>" * 20000])
def test_deep_nesting_is_a_named_fault(stdout):
    """Nesting deeper than the parsers' limits is a DriverFault, for exit 0 and exit 2."""
    assert isinstance(answer(0, stdout), DriverFault)
    assert isinstance(answer(2, stdout), DriverFault)


@FUZZ
@given(st.binary(max_size=200))
def test_parse_rejection_alone(stdout):
    """parse_rejection returns a Rejected or raises DriverFault for any bytes."""
    try:
        parse_rejection(stdout)
    except DriverFault:
        pass
