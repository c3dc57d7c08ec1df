"""``conformance driver-exec DRIVER_SPEC``: serve a Python driver over the exec protocol.

Reads one request (JSON, protocol 1 or 2) from stdin; a protocol-2 request for a
driver that declares protocol 1 is invalid (exit 3). Exit 0 with domain XML on stdout,
exit 2 with ``{"error", "message"}`` on stdout, exit 3 with a message on stderr when
the request is invalid or the driver spec cannot be loaded. Anything the driver itself
prints goes to stderr, so stdout carries only the answer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys

from conformance.contract import Rejected, Request, driver_protocol
from conformance.errors import DriverLoadError, RequestInvalid

MAX_REQUEST_BYTES = 1024 * 1024
EXIT_ACCEPTED, EXIT_REJECTED, EXIT_INVALID = 0, 2, 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("driver_spec", help="Python driver to serve: reference, nova or module:attr")


def run(args: argparse.Namespace) -> int:
    from conformance.drivers.load import load_driver

    raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
    try:
        if len(raw) > MAX_REQUEST_BYTES:
            raise RequestInvalid(f"request larger than {MAX_REQUEST_BYTES} bytes")
        request = Request.from_json(raw)
        driver = load_driver(args.driver_spec)
        if request.protocol > driver_protocol(driver):
            raise RequestInvalid(f"a protocol-{request.protocol} request ({request.operation}), "
                                 f"but driver {args.driver_spec} speaks protocol "
                                 f"{driver_protocol(driver)}")
    except (RequestInvalid, DriverLoadError) as exc:
        print(f"conformance driver-exec: {exc}", file=sys.stderr)
        return EXIT_INVALID
    try:
        with contextlib.redirect_stdout(sys.stderr):
            xml = driver.build(request)
    except Rejected as exc:
        sys.stdout.write(json.dumps(exc.rejection.to_dict()) + "\n")
        return EXIT_REJECTED
    sys.stdout.write(xml if isinstance(xml, str) else xml.decode("utf-8", "replace"))
    sys.stdout.flush()
    return EXIT_ACCEPTED
