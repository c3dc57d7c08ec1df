"""Shell access to the machine a libvirt URI points at: files and commands on the libvirt host.

Host-side facts (QEMU's pid file and ``/proc/PID/*``, the QEMU log, device numbers, the
daemon's limits) live on the libvirt host, not on the harness. :func:`host_access` picks
the transport from the URI:

- a local URI (no host part: ``qemu:///system``) reads the local filesystem directly;
- ``qemu+ssh://[user@]host[:port]/...?keyfile=K`` runs commands over ssh with testinfra's
  ssh backend (same user, port and key as libvirt's own ssh transport), each bounded;
- any other remote transport (``qemu+tcp``, ``qemu+tls``) gives no shell: every call
  raises :class:`HostCapabilityMissing` naming the URI, so the checks that need it are
  skipped with that reason instead of reading the harness's own files.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
from urllib.parse import parse_qs, urlsplit

from conformance.errors import HarnessError, HostCapabilityMissing

COMMAND_TIMEOUT = 20.0  # seconds for one command over ssh (connect included)
CONNECT_TIMEOUT = 10    # ssh ConnectTimeout
MAX_READ = 16 << 20     # bytes of one remote file read
MAX_SOCKET_DIR = 60     # ssh appends a temporary suffix to the control socket's path
STANDARD_DEVICES = {"/dev/null": (1, 3), "/dev/zero": (1, 5), "/dev/random": (1, 8),
                    "/dev/urandom": (1, 9), "/dev/hwrng": (10, 183)}


class HostAccessError(HarnessError):
    """A command on the libvirt host could not be run or did not finish in time."""


def is_local_uri(uri: str) -> bool:
    """True for URIs of the daemon on this machine (no host part, e.g. ``qemu:///system``)."""
    parts = urlsplit(uri)
    return not parts.hostname and parts.scheme.split("+")[-1] in ("qemu", "unix")


class LocalHost:
    """The libvirt host is this machine: plain file access."""

    local = True

    def __init__(self, uri: str = "qemu:///system"):
        self.uri = uri

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes:
        """The file's first ``limit`` bytes; FileNotFoundError when it does not exist."""
        with open(path, "rb") as f:
            return f.read(limit)

    def char_device(self, path: str) -> tuple[int, int] | None:
        """(major, minor) when ``path`` is a character device on the host, else None."""
        from conformance.lab.allowlist import local_char_device
        return local_char_device(path)

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    def run(self, argv: list[str], timeout: float = COMMAND_TIMEOUT):
        """Run ``argv`` here (testinfra's local backend, bounded); a testinfra CommandResult."""
        return _run_bounded(_backend("local")(), argv, timeout, self.uri)

    def close(self) -> None:
        pass


class NoShellHost:
    """A remote libvirt host reached without ssh: no files, no commands."""

    local = False

    def __init__(self, uri: str):
        self.uri = uri

    def _missing(self, what: str):
        raise HostCapabilityMissing(
            f"no shell on the libvirt host of {self.uri} to read {what} (host-side /proc and "
            "file checks need a qemu+ssh:// URI, or a local one)")

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes:
        self._missing(path)

    def char_device(self, path: str) -> tuple[int, int] | None:
        """Without a shell the device cannot be looked at: the standard names of Linux's
        entropy-like devices are trusted (they are the host's own /dev)."""
        return STANDARD_DEVICES.get(path)

    def remove(self, path: str) -> None:
        self._missing(path)

    def run(self, argv, timeout: float = COMMAND_TIMEOUT):
        self._missing(" ".join(argv))

    def close(self) -> None:
        pass


class SshHost:
    """A remote libvirt host over ssh (testinfra's ssh backend, one multiplexed connection)."""

    local = False

    def __init__(self, uri: str):
        self.uri = uri
        parts = urlsplit(uri)
        query = parse_qs(parts.query)
        self.hostname = parts.hostname
        self.user = parts.username
        self.port = parts.port
        self.keyfile = query.get("keyfile", [None])[0]
        self.no_verify = query.get("no_verify", ["0"])[0] == "1"
        self._dir = tempfile.mkdtemp(prefix="cfm-ssh-")
        if len(self._dir) > MAX_SOCKET_DIR:  # a unix socket path has at most 107 bytes
            os.rmdir(self._dir)
            self._dir = tempfile.mkdtemp(prefix="cfm-ssh-", dir="/tmp")
        self.control_path = os.path.join(self._dir, "control")
        self._backend = None

    def _options(self) -> list[str]:
        opts = [f"ConnectTimeout={CONNECT_TIMEOUT}", "BatchMode=yes", "ServerAliveInterval=5",
                "ServerAliveCountMax=2", "LogLevel=ERROR"]
        if self.no_verify:
            opts += ["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"]
        return opts

    @property
    def backend(self):
        if self._backend is None:
            self._backend = _backend("ssh")(
                f"{self.user + '@' if self.user else ''}{self.hostname}"
                + (f":{self.port}" if self.port else ""),
                ssh_identity_file=self.keyfile, timeout=CONNECT_TIMEOUT,
                controlpath=self.control_path, controlpersist=30,
                ssh_extra_args=" ".join(f"-o {o}" for o in self._options()))
        return self._backend

    def run(self, argv: list[str], timeout: float = COMMAND_TIMEOUT):
        """Run ``argv`` on the host (each word quoted); a testinfra CommandResult."""
        try:
            return _run_bounded(self.backend, argv, timeout, self.uri)
        except RuntimeError as exc:  # ssh itself failed (exit 255)
            result = exc.args[0] if exc.args else exc
            detail = getattr(result, "stderr", str(result)).strip()[-300:]
            raise HostAccessError(f"ssh to the libvirt host of {self.uri} failed: {detail}") from None

    def read_bytes(self, path: str, limit: int = MAX_READ) -> bytes:
        done = self.run(["head", "-c", str(limit), path])
        if done.rc != 0:
            if "No such file" in done.stderr:
                raise FileNotFoundError(path)
            raise HostAccessError(f"cannot read {path} on the host of {self.uri}: {done.stderr.strip()}")
        return done.stdout_bytes

    def char_device(self, path: str) -> tuple[int, int] | None:
        done = self.run(["stat", "-L", "-c", "%F/%t/%T", path])
        numbers = done.stdout.strip().split("/")
        if done.rc != 0 or len(numbers) != 3 or numbers[0] != "character special file":
            return None
        return int(numbers[1], 16), int(numbers[2], 16)

    def remove(self, path: str) -> None:
        self.run(["rm", "-f", "--", path])

    def close(self) -> None:
        """End the multiplexed ssh connection and remove its socket directory."""
        if os.path.exists(self.control_path):
            subprocess.run(["ssh", "-o", f"ControlPath={self.control_path}", "-O", "exit",
                            self.hostname or "host"], capture_output=True, timeout=10, check=False)
        try:
            os.unlink(self.control_path)
        except FileNotFoundError:
            pass
        try:
            os.rmdir(self._dir)
        except OSError:
            pass


def host_access(uri: str):
    """LocalHost, SshHost or NoShellHost for ``uri`` (see the module docstring)."""
    if is_local_uri(uri):
        return LocalHost(uri)
    if urlsplit(uri).scheme.endswith("+ssh"):
        return SshHost(uri)
    return NoShellHost(uri)


def _run_bounded(backend, argv: list[str], timeout: float, uri: str):
    backend.command_timeout, backend.uri = timeout, uri
    return backend.run(" ".join(shlex.quote(str(a)) for a in argv))


class _Bounded:
    """testinfra backends wait forever for a command: run it in its own process group and
    kill the group (ssh included) after ``command_timeout`` seconds."""

    command_timeout = COMMAND_TIMEOUT
    uri = ""

    def run_local(self, command: str, *args: str):
        cmd = self.encode(self.quote(command, *args))
        proc = subprocess.Popen(cmd, shell=True, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=self.command_timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise HostAccessError(f"{cmd[:200]!r} for the host of {self.uri} did not finish in "
                                  f"{self.command_timeout:g} s") from None
        return self.result(proc.returncode, cmd, out, err)


_BACKENDS: dict = {}


def _backend(kind: str):
    """testinfra's ``local`` or ``ssh`` backend class, bounded (made once, on first use)."""
    if kind not in _BACKENDS:
        from testinfra.backend.local import LocalBackend
        from testinfra.backend.ssh import SshBackend
        base = {"local": LocalBackend, "ssh": SshBackend}[kind]
        _BACKENDS[kind] = type(f"Bounded{base.__name__}", (_Bounded, base), {})
    return _BACKENDS[kind]
