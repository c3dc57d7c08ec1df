"""Shared main of the broken exec scripts: they speak both exec modes, the one-shot
protocol (``exec:``) and, when the first stdin line is the hello, the stream protocol
(``exec-stream:``), and misbehave the same way in both."""

import json
import sys
from typing import Callable

from conformance.drivers.exec_stream_wire import HELLO, encode, is_hello

__all__ = ["HELLO", "encode", "serve"]


def serve(answer: Callable[[str], str]) -> None:
    """``answer(request_json)`` returns the "accepted" output (or exits, hangs, floods itself).
    One-shot: printed on stdout. Stream: sent as each request's ``xml`` reply."""
    stdin = sys.stdin.buffer
    first = stdin.readline()
    if not is_hello(first):
        sys.stdout.write(answer((first + stdin.read()).decode()))
        return
    out = sys.stdout.buffer
    out.write(encode(HELLO))
    out.flush()
    for line in stdin:
        message = json.loads(line)
        out.write(encode({"id": message["id"], "xml": answer(json.dumps(message["request"]))}))
        out.flush()
