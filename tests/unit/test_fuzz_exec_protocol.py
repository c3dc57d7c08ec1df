"""Fuzz: the exec driver protocol readers end in Accepted, a Rejection or a named DriverFault:
one-shot (exit code + stdout + stderr of a finished process, then run_driver's checks) and
exec-stream (newline framing of the output, then each reply line)."""

import json

import pytest
from hypothesis import given, settings, strategies as st

from conformance.contract import Accepted, Rejection, Request
from conformance.drivers import exec as exec_driver
from conformance.drivers.exec import Completed, ExecDriver, parse_rejection
from conformance.drivers.exec_stream import StreamDriver
from conformance.drivers.exec_stream_wire import HELLO, Lines, is_hello
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


# --- exec-stream: newline framing and reply envelopes -----------------------------------

STREAM_KINDS = {"bad-output", "bad-rejection", "wrong-id", "crash", "not-xml", "not-domain", "unsafe"}
LINE = st.binary(max_size=200) | st.builds(
    lambda d: json.dumps(d).encode(),
    st.dictionaries(st.sampled_from(["id", "xml", "rejection", "fault", "extra"]),
                    st.none() | st.booleans() | st.integers(-2, 3) | st.text(max_size=20)
                    | st.sampled_from(["<domain/>", "<network/>", {}, {"error": "Bogus", "message": "m"},
                                       {"error": "RngDeviceNotExist", "message": "m"}]), max_size=4))


@FUZZ
@given(st.lists(st.binary(max_size=40), max_size=20), st.integers(1, 64))
def test_framing_is_independent_of_chunking(chunks, cap):
    """Any byte stream cut into any chunks yields the same lines as splitting it at once; a
    line longer than the cap is a bad-output fault; bytes after the last newline are kept."""
    data = b"".join(chunks)
    *want, rest = data.split(b"\n")
    lines, got = Lines(cap), []
    try:
        for chunk in chunks:
            lines.feed(chunk)
            while (line := lines.pop()) is not None:
                got.append(line)
    except DriverFault as fault:
        assert fault.kind == "bad-output"
        assert any(len(line) > cap for line in want + [rest])
        return
    assert got == want and all(len(line) <= cap for line in got) and len(rest) <= cap


@FUZZ
@given(LINE, st.integers(1, 3))
def test_any_reply_line_is_an_outcome_or_a_named_fault(line, want_id):
    """run_driver on a stream driver whose process printed ``line`` as its reply: Accepted, a
    Rejection (only for a schema-valid rejection with the right id) or a named DriverFault."""
    driver = StreamDriver(["driver"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(driver, "_running", lambda: type("P", (), {
            "exchange": staticmethod(lambda data, timeout: line), "stop": lambda self, grace=0: None})())
        driver._next_id = want_id - 1
        try:
            outcome = run_driver(driver, Request())
        except DriverFault as fault:
            assert fault.kind in STREAM_KINDS, fault
            return
    assert isinstance(outcome, (Accepted, Rejection))
    assert json.loads(line)["id"] == want_id


@FUZZ
@given(st.binary(max_size=100))
def test_is_hello_is_exact(line):
    """Only the hello object itself negotiates the stream (a one-shot request never does)."""
    assert is_hello(line) == (line.strip() != b"" and _json_or_none(line) == HELLO)


def _json_or_none(line: bytes):
    try:
        return json.loads(line)
    except ValueError:
        return None
