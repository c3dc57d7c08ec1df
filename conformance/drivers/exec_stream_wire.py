"""The exec-stream wire (docs/driver-protocol.md): the hello line, one JSON object a line
(:func:`encode`), newline framing with a cap (:class:`Lines`) and a reply's reading
(:func:`parse_reply`). Shared by the harness's side (``exec_stream.py``) and the in-process
server (``exec_server.py``).
"""

from __future__ import annotations

import json

from conformance.contract import validate
from conformance.drivers.exec import MAX_STDOUT, parse_rejection
from conformance.errors import DriverFault, RequestInvalid

HELLO = {"hello": "exec-stream", "protocol": 1}
MAX_LINE = 2 * MAX_STDOUT  # a reply carries at most 1 MiB of XML, JSON-escaped


def is_hello(line: bytes) -> bool:
    """True if ``line`` is the harness's hello (the program is asked to speak exec-stream)."""
    try:
        return json.loads(line) == HELLO
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


def encode(message: dict) -> bytes:
    """One protocol line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def parse_reply(line: bytes, want_id: int) -> str:
    """The XML of the reply ``line`` to request ``want_id``; raise Rejected or DriverFault."""
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise DriverFault("bad-output", f"reply is not a JSON line ({exc}): {line[:200]!r}") from None
    try:
        validate("stream-reply", data)
    except RequestInvalid as exc:
        raise DriverFault("bad-output", f"{exc}: {line[:200]!r}") from None
    if data["id"] != want_id:
        raise DriverFault("wrong-id", f"reply carries id {data['id']!r}, expected {want_id} "
                          "(out of order or unsolicited)")
    if "xml" in data:
        return data["xml"]
    if "rejection" in data:
        raise parse_rejection(json.dumps(data["rejection"]).encode())
    raise DriverFault("crash", f"driver reported a fault: {data['fault']}"[:2000])


class Lines:
    """Newline framing of a byte stream: ``feed`` chunks, ``pop`` complete lines in order.
    Bytes after the last newline are kept for the next ``pop``; a line longer than
    ``cap`` is a DriverFault (bad-output)."""

    def __init__(self, cap: int = MAX_LINE):
        self.cap, self._buffer, self._scanned = cap, bytearray(), 0

    def feed(self, chunk: bytes) -> None:
        self._buffer += chunk

    def pop(self) -> bytes | None:
        """The next complete line without its newline, or None if there is none yet."""
        end = self._buffer.find(b"\n", self._scanned)
        if end > self.cap or (end < 0 and len(self._buffer) > self.cap):
            raise DriverFault("bad-output", f"stdout exceeded {self.cap} bytes without a "
                              "complete reply line; process group killed")
        if end < 0:
            self._scanned = len(self._buffer)
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[:end + 1]
        self._scanned = 0
        return line
