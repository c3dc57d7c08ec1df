"""Exec-stream driver (hand-written protocol, no driver-exec) that misbehaves on request:
the request's ``instance_name`` picks what it does with that one request.

``instance-die``: exits 1 mid-stream; ``instance-orphan``: exits 1, leaving a child that
keeps stderr open; ``instance-hang``: starts a grandchild (pid on
stderr) and never answers; ``instance-flood``: endless stdout without a newline;
``instance-wrongid``: replies with another id; ``instance-twice``: replies twice (the
second reply is left over for the next request); ``instance-stderr``: 200 KiB on stderr;
``instance-notjson``: a reply line that is not JSON; ``instance-fault``: a fault reply;
anything else: the reference's answer. ``--log N``: N bytes of stderr before each reply;
``--linger``: ignore the end of stdin and never exit.
"""

import json
import subprocess
import sys
import threading

from conformance.contract import Rejected, Request
from conformance.reference import ReferenceDriver

from _exec import HELLO, encode


def reply(rid: int, request: dict) -> dict:
    try:
        return {"id": rid, "xml": ReferenceDriver().build(Request.from_dict(request))}
    except Rejected as exc:
        return {"id": rid, "rejection": exc.rejection.to_dict()}


def main(argv: list[str]) -> None:
    log = int(argv[argv.index("--log") + 1]) if "--log" in argv else 0
    out = sys.stdout.buffer
    send = lambda message: (out.write(encode(message)), out.flush())  # noqa: E731
    sys.stdin.buffer.readline()
    send(HELLO)
    for line in sys.stdin.buffer:
        message = json.loads(line)
        rid, request = message["id"], message["request"]
        mood = request["instance_name"].removeprefix("instance-")
        sys.stderr.write("x" * log)
        sys.stderr.flush()
        if mood == "die":
            print("moody: dying on request", rid, file=sys.stderr, flush=True)
            sys.exit(1)
        elif mood == "orphan":
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            sys.exit(1)
        elif mood == "hang":
            child = subprocess.Popen([sys.executable, "-c", "import threading; threading.Event().wait()"])
            print(f"grandchild pid {child.pid}", file=sys.stderr, flush=True)
            threading.Event().wait()
        elif mood == "flood":
            while True:
                out.write(b"<domain>" * 8192)
        elif mood == "wrongid":
            send(reply(rid + 1000, request))
        elif mood == "twice":
            send(reply(rid, request))
            send(reply(rid, request))
        elif mood == "stderr":
            sys.stderr.write("e" * (200 << 10))
            sys.stderr.flush()
            send(reply(rid, request))
        elif mood == "notjson":
            out.write(b"hello there\n")
            out.flush()
        elif mood == "fault":
            send({"id": rid, "fault": "moody: boom"})
        else:
            send(reply(rid, request))
    if "--linger" in argv:
        threading.Event().wait()


if __name__ == "__main__":
    main(sys.argv[1:])
