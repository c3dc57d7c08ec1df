"""``conformance driver-exec DRIVER_SPEC``: serve a Python driver over the exec protocol.

One-shot (``exec:``, ``exec2:``, ``exec3:``): reads one request (JSON, protocol 1, 2 or 3) from stdin.
Exit 0 with domain XML on stdout, exit 2 with ``{"error", "message"}`` on stdout, exit 3
with a message on stderr when the request is invalid (a protocol-2 request for a driver
that declares protocol 1 included) or the driver spec cannot be loaded.

Stream (``exec-stream:``, ``exec2-stream:``): when the first stdin line is the hello line, answers it, loads
the driver once and answers one reply line per request line until stdin closes
(``exec_stream.py``). A driver exception or an invalid request is a ``fault`` reply; the server goes on.

Anything the driver itself prints goes to stderr, so stdout carries only answers: file
descriptor 1 itself points at stderr while the driver runs (so writes below Python's
``sys.stdout`` and child processes are caught too) and answers go to a duplicate of it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback

from conformance.contract import Rejected, Request, driver_protocol, validate
from conformance.drivers import exec_stream_wire
from conformance.errors import DriverLoadError, RequestInvalid

MAX_REQUEST_BYTES = 1024 * 1024
EXIT_ACCEPTED, EXIT_REJECTED, EXIT_INVALID = 0, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("driver_spec", help="Python driver to serve: reference, nova or module:attr")


def run(args: argparse.Namespace) -> int:
    first = sys.stdin.buffer.readline(MAX_REQUEST_BYTES + 1)
    if exec_stream_wire.is_hello(first):
        return serve_stream(args.driver_spec)
    return serve_one(args.driver_spec, first + sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1 - len(first)))


def _load(spec: str):
    from conformance.drivers.load import load_driver
    return load_driver(spec)


def _check_protocol(request: Request, driver, spec: str) -> None:
    if request.protocol > driver_protocol(driver):
        raise RequestInvalid(f"a protocol-{request.protocol} request ({request.operation}), "
                             f"but driver {spec} speaks protocol {driver_protocol(driver)}")


def serve_one(spec: str, raw: bytes) -> int:
    """The one-shot protocol: ``raw`` is all of stdin."""
    try:
        if len(raw) > MAX_REQUEST_BYTES:
            raise RequestInvalid(f"request larger than {MAX_REQUEST_BYTES} bytes")
        request = Request.from_json(raw)
        driver = _load(spec)
        _check_protocol(request, driver, spec)
    except (RequestInvalid, DriverLoadError) as exc:
        print(f"conformance driver-exec: {exc}", file=sys.stderr)
        return EXIT_INVALID
    out = _protocol_stdout()
    try:
        xml = driver.build(request)
    except Rejected as exc:
        out.write(json.dumps(exc.rejection.to_dict()).encode() + b"\n")
        return EXIT_REJECTED
    out.write(xml.encode() if isinstance(xml, str) else xml)
    return EXIT_ACCEPTED


def _protocol_stdout():
    """A private duplicate of fd 1 for answers; fd 1 (and sys.stdout) then point at stderr."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    return out


def answer(driver, line: bytes, spec: str = "") -> dict:
    """The reply envelope to one request line (never raises for a bad line or driver)."""
    rid = None
    try:
        message = json.loads(line)
        rid = message.get("id") if isinstance(message, dict) else None
        validate("stream-request", message)
        request = Request.from_dict(message["request"])
        _check_protocol(request, driver, spec)
    except (ValueError, UnicodeDecodeError, RecursionError, RequestInvalid) as exc:
        return {"id": rid if isinstance(rid, int) else None, "fault": f"request invalid: {exc}"}
    try:
        xml = driver.build(request)
        return {"id": rid, "xml": xml if isinstance(xml, str) else xml.decode("utf-8", "replace")}
    except Rejected as exc:
        return {"id": rid, "rejection": exc.rejection.to_dict()}
    except Exception:  # noqa: BLE001 - reported to the harness as this request's fault
        return {"id": rid, "fault": traceback.format_exc()[-4000:]}


def serve_stream(spec: str) -> int:
    """The stream protocol (the hello line has been read)."""
    out = _protocol_stdout()
    try:
        driver = _load(spec)
    except DriverLoadError as exc:
        print(f"conformance driver-exec: {exc}", file=sys.stderr)
        return EXIT_INVALID
    out.write(exec_stream_wire.encode(exec_stream_wire.HELLO))
    stdin = sys.stdin.buffer
    while line := stdin.readline(MAX_REQUEST_BYTES + 1):
        if len(line) > MAX_REQUEST_BYTES:
            out.write(exec_stream_wire.encode({"id": None, "fault": "request line larger than "
                                          f"{MAX_REQUEST_BYTES} bytes"}))
            print("conformance driver-exec: request line too long; stream lost", file=sys.stderr)
            return EXIT_INVALID
        if line.strip():
            out.write(exec_stream_wire.encode(answer(driver, line, spec)))
    return EXIT_ACCEPTED
