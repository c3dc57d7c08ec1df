"""libvirt's own reading of untrusted domain XML, in a child process of its own.

libvirt validates the XML against its RelaxNG schema (``VIR_DOMAIN_DEFINE_VALIDATE``: a
duplicated top-level element, an unknown element, a child element inside text are
refused) and parses it exactly as every libvirt driver does, on its in-process test
driver (``test:///default``: no daemon, no host file opened, nothing executed). The child
defines the document under the throw-away name the caller gave it, reads it back with
``XMLDesc`` (the canonical form: one ``<devices>``, one ``<os>``, memory in KiB) and
undefines it.

libvirt's parser is C reading hostile input (``<iothreads>4000000000</iothreads>`` made
libvirt 9.0 crash in-process), so it runs in a child (``python -m
conformance.lab.libvirt_reader``) with an address-space limit and a deadline per document:
a crash, a memory bomb or a hang ends that child and refuses the XML, never the harness;
the next document gets a new child. One child per harness process, requests serialised;
it exits when its parent closes the pipe (also when the parent dies) and shares its
parent's process group, so stopping the group (Ctrl-C) stops it too.
"""

from __future__ import annotations

import atexit
import os
import resource
import select
import struct
import subprocess
import sys
import threading
import time

from conformance.errors import SandboxViolation

TEST_URI = "test:///default"
MEMORY_LIMIT = 1 << 30   # address space of the child (bytes)
READ_TIMEOUT = 20.0      # seconds for one document (libvirt parses 1 MiB in well under 1 s)
MAX_ANSWER = 8 << 20     # bytes of one canonical document
_HEADER = struct.Struct(">BI")  # status (0 canonical XML, 1 libvirt's refusal), length


def _read_exact(fd: int, size: int, deadline: float) -> bytes | None:
    """``size`` bytes from ``fd`` by ``deadline`` (monotonic); None on EOF or timeout."""
    chunks, left = [], size
    while left:
        wait = deadline - time.monotonic()
        if wait <= 0 or not select.select([fd], [], [], wait)[0]:
            return None
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class LibvirtReader:
    """The harness side: one child, started on first use and again after it died."""

    def __init__(self, timeout: float = READ_TIMEOUT):
        self.timeout = timeout
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pid = os.getpid()

    def read(self, xml: str) -> str:
        """libvirt's canonical form of ``xml``; SandboxViolation ``schema`` when libvirt's
        RelaxNG refuses it, ``libvirt-parse`` when its parser does (or dies, or hangs)."""
        with self._lock:
            proc = self._child()
            data = xml.encode()
            try:
                proc.stdin.write(struct.pack(">I", len(data)) + data)
                proc.stdin.flush()
            except OSError:
                pass  # a dead child: its exit status is reported below
            deadline = time.monotonic() + self.timeout
            header = _read_exact(proc.stdout.fileno(), _HEADER.size, deadline)
            status, size = _HEADER.unpack(header) if header else (None, 0)
            payload = _read_exact(proc.stdout.fileno(), size, deadline) if header and \
                size <= MAX_ANSWER else None
            if payload is None:
                raise SandboxViolation("libvirt-parse", self._lost(proc))
        text = payload.decode(errors="replace")
        if status == 0:
            return text
        code, _, message = text.partition("\n")
        rule = "schema" if code == "schema" else "libvirt-parse"
        raise SandboxViolation(rule, f"libvirt refused the XML: {message[:600]}")

    def _child(self) -> subprocess.Popen:
        if self._pid != os.getpid():  # a forked copy must not share its parent's pipes
            self._proc, self._pid = None, os.getpid()
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "conformance.lab.libvirt_reader"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return self._proc

    def _lost(self, proc: subprocess.Popen) -> str:
        """Kill the child (it died, hung or answered nonsense) and say what happened."""
        proc.kill()
        try:
            status = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        self._proc = None
        if status is not None and status < 0 and status != -9:
            return f"libvirt's parser died (signal {-status}) reading the XML"
        if status is not None and status >= 0:
            return f"libvirt's reader exited (status {status}) without an answer"
        return f"libvirt's parser gave no answer within {self.timeout:g} s; the reader was killed"

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is not None and self._pid == os.getpid():
            proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


_READER = LibvirtReader()
atexit.register(_READER.close)


def read(xml: str) -> str:
    """libvirt's canonical form of ``xml`` (this process's reader child)."""
    return _READER.read(xml)


# -- the child ---------------------------------------------------------------------------
def serve(source, sink) -> int:
    """Answer documents from ``source`` until EOF (binary streams)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    import libvirt
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    conn = libvirt.open(TEST_URI)
    while True:
        header = source.read(4)
        if len(header) < 4:
            return 0
        xml = source.read(struct.unpack(">I", header)[0]).decode()
        try:
            domain = conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
            try:
                status, text = 0, domain.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE
                                                 | libvirt.VIR_DOMAIN_XML_INACTIVE)
            finally:
                domain.undefine()
        except libvirt.libvirtError as exc:
            code = "schema" if exc.get_error_code() == libvirt.VIR_ERR_XML_INVALID_SCHEMA \
                else str(exc.get_error_code())
            status, text = 1, f"{code}\n{exc.get_error_message()}"
        data = text.encode()
        sink.write(_HEADER.pack(status, len(data)) + data)
        sink.flush()


if __name__ == "__main__":
    sys.exit(serve(sys.stdin.buffer, sys.stdout.buffer))
