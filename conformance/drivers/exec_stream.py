"""``exec-stream:COMMAND`` drivers: one long-lived process, one JSON line per request and reply
(``exec2-stream:COMMAND``: the same, speaking request protocol 2).

The harness starts COMMAND (own process group) on first use and sends the hello line
:data:`~conformance.drivers.exec_stream_wire.HELLO`; the program must answer with the same object on one line before any request.
Then, one request at a time: ``{"id": N, "request": REQUEST}`` in, and one of
``{"id": N, "xml": TEXT}``, ``{"id": N, "rejection": {"error", "message"}}`` or
``{"id": N, "fault": TEXT}`` out (schemas ``conformance/schema/stream-*-v1.json``, prose in
docs/driver-protocol.md). Every request is bounded like a one-shot ``exec:`` run: a
deadline, a cap on the reply line and on stderr written meanwhile (stderr is drained while
waiting, its tail kept for fault messages). A hang, a flood, a reply with the wrong id, an
invalid reply or the process dying is a :class:`DriverFault` for that request; the process
group is killed and the next request starts a fresh process (a ``fault`` reply or an invalid
rejection in a valid reply is a fault too, but the process stays).
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import shlex
import signal
import subprocess
import threading
import time

from conformance.contract import Rejected, Request
from conformance.drivers.exec import DEFAULT_TIMEOUT, MAX_STDERR, command_argv, stderr_tail
from conformance.drivers.exec_stream_wire import HELLO, Lines, encode, is_hello, parse_reply
from conformance.errors import DriverFault
from conformance.process import kill_group, signal_group

# faults in a well-framed reply with the right id: the stream is intact, the process stays
KEEPS_PROCESS = frozenset({"crash", "bad-rejection"})
DEATH_POLL = 0.2           # seconds between liveness checks while no output arrives
CLOSE_GRACE = 2.0          # seconds a driver has to exit after its stdin closes


class _Process:
    """One running driver process: bounded line exchanges, stderr tail."""

    def __init__(self, argv: list[str]):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True, bufsize=0)
        self.owner = os.getpid()  # the harness process that owns the pipes (not a fork of it)
        self._lines, self._err = Lines(), bytearray()
        self._sel = selectors.DefaultSelector()
        for stream in (self.proc.stdout, self.proc.stderr):
            os.set_blocking(stream.fileno(), False)
            self._sel.register(stream, selectors.EVENT_READ)
        os.set_blocking(self.proc.stdin.fileno(), False)
        self._err_seen = 0  # stderr bytes read so far (the per-request cap counts from here)
        self._lock = threading.Lock()  # stop() against a concurrent stop()
        self.stopped = False

    def tail(self) -> str:
        return stderr_tail(self._err)

    def exchange(self, line: bytes, timeout: float) -> bytes:
        """Write ``line``, return the next line the process prints (without the newline)."""
        deadline = time.monotonic() + timeout
        pending, err_start = memoryview(line), self._err_seen
        stdin = self.proc.stdin
        self._sel.register(stdin, selectors.EVENT_WRITE)
        try:
            while (reply := self._lines.pop()) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DriverFault("timeout", f"no reply line within {timeout:g} s; process "
                                      "group killed" + self.tail())
                events = self._sel.select(min(left, DEATH_POLL))
                if not events and self.proc.poll() is not None:  # pipes held by its children
                    self._read_stdout()
                    if (reply := self._lines.pop()) is not None:
                        return reply
                    raise self._died()
                for key, _ in events:
                    if key.fileobj is stdin:
                        pending = self._write(pending)
                        if not pending:
                            self._sel.unregister(stdin)
                    elif key.fileobj is self.proc.stderr:
                        self._drain_stderr()
                        if self._err_seen - err_start > MAX_STDERR:
                            raise DriverFault("bad-output", f"stderr exceeded {MAX_STDERR} bytes "
                                              "during one request; process group killed")
                    elif not self._read_stdout():
                        raise self._died()
            return reply
        finally:
            if stdin in self._sel.get_map():
                self._sel.unregister(stdin)

    def _read_stdout(self) -> bool:
        """Feed what stdout has now to the framing; False at end of file."""
        try:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return True
        self._lines.feed(chunk)
        return bool(chunk)

    def _write(self, pending: memoryview) -> memoryview:
        try:
            return pending[os.write(self.proc.stdin.fileno(), pending[:65536]):]
        except BrokenPipeError:
            raise self._died() from None

    def _drain_stderr(self) -> bool:
        """Read what stderr has now into the capped tail; False once nothing more is there."""
        if self.proc.stderr not in self._sel.get_map():
            return False
        try:
            chunk = os.read(self.proc.stderr.fileno(), 65536)
        except BlockingIOError:
            return False
        if not chunk:
            self._sel.unregister(self.proc.stderr)
            return False
        self._err_seen += len(chunk)
        self._err += chunk
        del self._err[:-MAX_STDERR]
        return True

    def _died(self) -> DriverFault:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        for _ in range(MAX_STDERR // 65536 + 1):  # what it wrote last, for the message
            if not self._drain_stderr():
                break
        how = ("closed its stdout" if code is None else f"killed by signal {-code}" if code < 0
               else f"exit code {code}")
        return DriverFault("exit-code", f"driver process died mid-stream ({how}); it is "
                           f"restarted for the next request{self.tail()}")

    def stop(self, grace: float = CLOSE_GRACE) -> None:
        """Close stdin (the driver should exit), then kill the process group. Idempotent."""
        with self._lock:
            if self.stopped:
                return
            self.stopped = True
        if self.proc.poll() is None and grace > 0:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=grace)
            except (OSError, subprocess.TimeoutExpired):
                pass
        kill_group(self.proc, wait=30)  # also whatever the driver started
        self._sel.close()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass


class StreamDriver:
    """A driver that is a long-lived external command (see module docstring); thread-safe,
    one request at a time. :meth:`close` (also run at interpreter exit) stops the process."""
    bounds_requests = True  # its own deadline (conformance.drivers.hang)

    def __init__(self, argv: list[str], *, timeout: float = DEFAULT_TIMEOUT, protocol: int = 1):
        self.argv, self.timeout, self.protocol = list(argv), timeout, protocol
        self.name = ("exec" if protocol == 1 else f"exec{protocol}") + "-stream:" + shlex.join(self.argv)
        self._lock = threading.Lock()
        self._process: _Process | None = None
        self._next_id = 0
        self._spoke = False  # a process of this driver has answered the hello
        self._refusal: DriverFault | None = None

    @classmethod
    def from_command(cls, command: str, *, timeout: float = DEFAULT_TIMEOUT,
                     protocol: int = 1) -> "StreamDriver":
        """Split ``command`` like a shell; the program must exist and be executable."""
        return cls(command_argv(command, "exec-stream"), timeout=timeout, protocol=protocol)

    @property
    def pid(self) -> int | None:
        """The driver process's pid, None when none is running."""
        process = self._process
        return process.proc.pid if process and not process.stopped else None

    def build(self, request: Request) -> str:
        """Send ``request``; return the XML, raise Rejected or DriverFault."""
        with self._lock:
            process = self._running()
            self._next_id += 1
            try:
                line = process.exchange(encode({"id": self._next_id, "request": request.to_dict()}),
                                        self.timeout)
                return parse_reply(line, self._next_id)
            except Rejected:
                raise
            except DriverFault as fault:
                if fault.kind not in KEEPS_PROCESS:
                    self._discard(process)
                raise

    def _running(self) -> _Process:
        process = self._process
        if process is not None and not process.stopped and process.owner == os.getpid() \
                and process.proc.poll() is None:
            return process
        if process is not None:
            self._discard(process)
        if self._refusal is not None:
            raise DriverFault(self._refusal.kind, f"{self._refusal.detail} (not retried)")
        self._process = self._start()
        return self._process

    def _start(self) -> _Process:
        """A new process that has answered the hello; a program that never did is refused
        for good (``handshake``), so a one-shot program costs one timeout, not one per case."""
        try:
            process = _Process(self.argv)
        except OSError as exc:
            raise DriverFault("exit-code", f"cannot start {self.argv[0]}: {exc}") from None
        atexit.unregister(self.close)  # registered once, however often it respawns
        atexit.register(self.close)
        try:
            hello = process.exchange(encode(HELLO), self.timeout)
        except DriverFault as fault:
            process.stop(grace=0)
            if fault.kind != "timeout" or self._spoke:
                raise
            hello, why = None, (f"no hello line within {self.timeout:g} s: the program may speak "
                                "only the one-shot protocol (use exec:COMMAND)")
        if hello is not None and is_hello(hello):
            self._spoke = True
            return process
        process.stop(grace=0)
        if hello is not None:
            why = f"expected the hello line {json.dumps(HELLO)}, got {hello[:200]!r}"
        fault = DriverFault("handshake", why + process.tail())
        if not self._spoke:
            self._refusal = fault
        raise fault

    def _discard(self, process: _Process) -> None:
        if self._process is process:
            self._process = None
        if process.owner == os.getpid():  # a forked child leaves its parent's process alone
            process.stop(grace=0)

    def close(self) -> None:
        """Stop the driver process (EOF on its stdin, then its group is killed). Idempotent
        and never blocks on a request in flight (another thread, or a signal handler): that
        request's process group is killed, the request ends with a fault and cleans up. A
        later build() starts a new process."""
        process, self._process = self._process, None
        atexit.unregister(self.close)
        if process is None or process.owner != os.getpid():
            return
        if self._lock.acquire(blocking=False):
            try:
                process.stop()
            finally:
                self._lock.release()
        else:
            signal_group(process.proc, signal.SIGKILL)
