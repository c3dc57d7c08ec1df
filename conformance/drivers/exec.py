"""``exec:COMMAND`` drivers: one process per request, protocol in docs/driver-protocol.md
(the persistent mode, ``exec-stream:COMMAND``, is ``exec_stream.py``).

The request JSON goes to stdin. Exit 0 with domain XML on stdout means accepted; exit 2
with ``{"error": CODE, "message": TEXT}`` on stdout means rejected; anything else is a
:class:`DriverFault`. The command runs in its own process group, which is killed on
timeout or when stdout/stderr grow beyond their caps (output is read incrementally).
The spec names the protocol the program speaks: ``exec:COMMAND`` is protocol 1
(create only), ``exec2:COMMAND`` protocol 2 (lifecycle operations too).
"""

from __future__ import annotations

import json
import os
import selectors
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass

from conformance.contract import Rejected, Request, validate
from conformance.errors import DriverFault, DriverLoadError, RequestInvalid
from conformance.process import kill_group

DEFAULT_TIMEOUT = 30.0
MAX_STDOUT = 1024 * 1024
MAX_STDERR = 64 * 1024
STDERR_TAIL = 2000
EXIT_ACCEPTED, EXIT_REJECTED = 0, 2


@dataclass(frozen=True)
class Completed:
    """What a finished driver process produced."""
    returncode: int
    stdout: bytes
    stderr: bytes


def communicate(argv: list[str], data: bytes, timeout: float,
                max_stdout: int = MAX_STDOUT, max_stderr: int = MAX_STDERR) -> Completed:
    """Run ``argv`` with ``data`` on stdin; bounded in time and in output size."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    caps = {proc.stdout: (out, max_stdout, "stdout"), proc.stderr: (err, max_stderr, "stderr")}
    sel = selectors.DefaultSelector()
    try:
        os.set_blocking(proc.stdin.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE)
        for stream in caps:
            sel.register(stream, selectors.EVENT_READ)
        pending = memoryview(data)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise DriverFault("timeout", f"no answer within {timeout:g} s; process group killed"
                                  + stderr_tail(err))
            for key, _ in sel.select(left):
                if key.fileobj is proc.stdin:
                    try:
                        pending = pending[os.write(proc.stdin.fileno(), pending[:65536]):]
                    except BrokenPipeError:  # the driver need not read its whole stdin
                        pending = pending[:0]
                    if not pending:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                buf, cap, label = caps[key.fileobj]
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf += chunk
                if len(buf) > cap:
                    raise DriverFault("bad-output", f"{label} exceeded {cap} bytes; process group killed")
        left = max(0.0, deadline - time.monotonic())
        try:
            returncode = proc.wait(left)
        except subprocess.TimeoutExpired:
            raise DriverFault("timeout", f"process did not exit within {timeout:g} s after "
                              "closing its output; process group killed") from None
        return Completed(returncode, bytes(out), bytes(err))
    finally:
        sel.close()
        if proc.returncode is None:
            kill_group(proc, wait=30)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if not stream.closed:
                stream.close()


def stderr_tail(stderr: bytes | bytearray) -> str:
    text = bytes(stderr[-STDERR_TAIL:]).decode("utf-8", "replace").strip()
    return f"; stderr tail: {text}" if text else "; stderr empty"


def parse_rejection(stdout: bytes) -> Rejected:
    """The Rejected exception for an exit-2 answer; DriverFault if the JSON is malformed."""
    try:
        data = json.loads(stdout)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DriverFault("bad-output", f"exit 2 but stdout is not JSON ({exc}): "
                          f"{stdout[:200]!r}") from None
    try:
        validate("rejection", data)
    except RequestInvalid as exc:
        raise DriverFault("bad-rejection", f"exit 2 but {exc}") from None
    return Rejected(data["error"], data["message"])


def command_argv(command: str, kind: str) -> list[str]:
    """``command`` split like a shell; DriverLoadError unless its program exists and is executable."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise DriverLoadError(f"cannot parse {kind} command {command!r}: {exc}") from None
    if not argv:
        raise DriverLoadError(f"{kind} driver spec has no command: expected '{kind}:COMMAND'")
    program = argv[0]
    if "/" in program:
        if not os.path.isfile(program):
            raise DriverLoadError(f"{kind} driver command not found: {program}")
        if not os.access(program, os.X_OK):
            raise DriverLoadError(f"{kind} driver command is not executable: {program}")
    elif shutil.which(program) is None:
        raise DriverLoadError(f"{kind} driver command not found on PATH: {program}")
    return argv


class ExecDriver:
    """A driver that is an external command (see module docstring)."""
    bounds_requests = True  # its own deadline (conformance.drivers.hang)

    def __init__(self, argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, protocol: int = 1):
        self.argv, self.timeout, self.protocol = list(argv), timeout, protocol
        self.name = ("exec:" if protocol == 1 else f"exec{protocol}:") + shlex.join(self.argv)

    @classmethod
    def from_command(cls, command: str, *, timeout: float = DEFAULT_TIMEOUT,
                     protocol: int = 1) -> "ExecDriver":
        """Split ``command`` like a shell; the program must exist and be executable."""
        return cls(command_argv(command, "exec"), timeout=timeout, protocol=protocol)

    def build(self, request: Request) -> str:
        """Run the command once; return its XML, raise Rejected or DriverFault."""
        try:
            done = communicate(self.argv, request.to_json().encode(), self.timeout)
        except OSError as exc:  # e.g. a script without a shebang line: Exec format error
            raise DriverFault("exit-code", f"cannot start {self.argv[0]}: {exc}") from None
        if done.returncode == EXIT_ACCEPTED:
            try:
                return done.stdout.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DriverFault("bad-output", f"stdout is not UTF-8: {exc}") from None
        if done.returncode == EXIT_REJECTED:
            raise parse_rejection(done.stdout)
        how = (f"killed by signal {-done.returncode}" if done.returncode < 0
               else f"exit code {done.returncode}")
        raise DriverFault("exit-code", f"{how} (expected 0 or 2){stderr_tail(done.stderr)}")
