"""A running guest: live XML, QEMU pid, QMP, guest agent, console, events and bounded waits.

Guest output (agent answers, exec output, console) is untrusted data: it is size-capped,
decoded with replacement, and never evaluated or put into a shell on the host.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import libvirt
import libvirt_qemu
from lxml import etree

from conformance.errors import GuestError, HarnessError, WaitTimeout
from conformance.lab.events import EventHub
from conformance.lab.host import LocalHost
from conformance.waiters import wait_until, wait_until_or_raise

BOOT_MARKER = re.compile(rb"CONFORMANCE-BOOT boot_id=([0-9a-f-]{36})")
MAX_OUTPUT = 1 << 20          # bytes kept of one guest-exec stream
MAX_CONSOLE = 4 << 20         # bytes of console log read
MAX_AGENT_ANSWER = 4 << 20    # characters of one agent answer (libvirt RPC string cap)
GUEST_SETSID = "/usr/bin/setsid"  # busybox: exec in place in a new session (pid = session id)
GUEST_KILL = "/bin/kill"
KILL_WAIT = 5  # seconds for the kill of a timed-out command's process group
STATES = {libvirt.VIR_DOMAIN_RUNNING: "running", libvirt.VIR_DOMAIN_PAUSED: "paused",
          libvirt.VIR_DOMAIN_SHUTOFF: "shutoff", libvirt.VIR_DOMAIN_SHUTDOWN: "shutdown",
          libvirt.VIR_DOMAIN_CRASHED: "crashed", libvirt.VIR_DOMAIN_BLOCKED: "blocked",
          libvirt.VIR_DOMAIN_PMSUSPENDED: "pmsuspended"}
PAUSED_REASONS = {libvirt.VIR_DOMAIN_PAUSED_WATCHDOG: "watchdog",
                  libvirt.VIR_DOMAIN_PAUSED_USER: "user", libvirt.VIR_DOMAIN_PAUSED_IOERROR: "ioerror"}


# Live XML echoes driver-chosen text (e.g. <description>): parsed like untrusted XML.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def qemu_log_path(name: str) -> str:
    """libvirt's QEMU log of domain ``name`` on the libvirt host (system mode)."""
    return f"/var/log/libvirt/qemu/{name}.log"


class LocalConsole:
    """The serial console log, a file on this machine (local libvirt)."""

    def __init__(self, path: str):
        self.path = path

    def read(self, limit: int) -> bytes:
        try:
            with open(self.path, "rb") as log:
                return log.read(limit)
        except OSError:
            return b""

    def remove(self) -> None:
        Path(self.path).unlink(missing_ok=True)


class VolumeConsole:
    """The serial console log, a volume in the harness pool of a remote host."""

    def __init__(self, files, name: str, path: str):
        self.files, self.name, self.path = files, name, path

    def read(self, limit: int) -> bytes:
        try:
            return self.files.read(self.name, limit)
        except HarnessError:
            return b""

    def remove(self) -> None:
        try:
            self.files.delete(self.name)
        except HarnessError:
            pass


class AgentError(GuestError):
    """The guest agent answered with an error, or could not be reached."""


@dataclass(frozen=True)
class CommandResult:
    rc: int
    stdout: bytes
    stderr: bytes
    argv: tuple = ()

    @property
    def text(self) -> str:
        return self.stdout.decode(errors="replace")


class Guest:
    """A domain the lab defined and started. Create through :class:`conformance.lab.Lab`."""

    def __init__(self, domain: libvirt.virDomain, console, hub: EventHub, host=None):
        self.domain = domain
        self.name = domain.name()
        self.uuid = domain.UUIDString()
        self.console = console if not isinstance(console, (str, Path)) else LocalConsole(str(console))
        self.console_path = Path(self.console.path)  # on the libvirt host
        self.host = host or LocalHost()  # the libvirt host's files and commands
        self._hub = hub
        self._pid: int | None = None
        self.destroyed = False

    # -- what the host sees -------------------------------------------------------------
    def live_xml(self) -> etree._Element:
        return etree.fromstring(self.domain.XMLDesc(0).encode(), _PARSER)

    @property
    def pid(self) -> int:
        """The QEMU process id (from libvirt's pid file) of the current run of the domain."""
        if self._pid is None:
            text = self.host.read_bytes(f"/run/libvirt/qemu/{self.name}.pid", 64).strip()
            self._pid = int(text)
        return self._pid

    def restarted(self) -> None:
        """The domain was stopped and started again (a new QEMU process): forget its pid."""
        self._pid = None

    def state(self) -> tuple[str, str]:
        """(state, reason) e.g. ("paused", "watchdog"); ("gone", "") once undefined."""
        try:
            state, reason = self.domain.state()
        except libvirt.libvirtError:
            return "gone", ""
        text = STATES.get(state, str(state))
        why = PAUSED_REASONS.get(reason, str(reason)) if state == libvirt.VIR_DOMAIN_PAUSED else str(reason)
        return text, why

    def qmp(self, command: str, **arguments):
        """Run a QMP command on the QEMU monitor; return its "return" value."""
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        answer = json.loads(libvirt_qemu.qemuMonitorCommand(self.domain, json.dumps(message), 0))
        if "error" in answer:
            raise GuestError(f"QMP {command} failed: {answer['error']}")
        return answer.get("return")

    @property
    def events(self):
        return self._hub.events(self.uuid)

    # -- the guest agent ---------------------------------------------------------------
    def agent(self, command: str, timeout: int = 10, **arguments):
        """Run a guest-agent command; return its "return" value or raise AgentError."""
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        try:
            text = libvirt_qemu.qemuAgentCommand(self.domain, json.dumps(message), timeout, 0)
        except libvirt.libvirtError as exc:
            raise AgentError(f"agent {command}: {exc.get_error_message()}") from None
        if len(text) > MAX_AGENT_ANSWER:
            raise AgentError(f"agent {command}: answer of {len(text)} characters is larger "
                             f"than {MAX_AGENT_ANSWER}")
        try:
            answer = json.loads(text)
        except ValueError as exc:
            raise AgentError(f"agent {command}: answer is not JSON ({exc})") from None
        if not isinstance(answer, dict):
            raise AgentError(f"agent {command}: answer is not a JSON object")
        if "error" in answer:
            raise AgentError(f"agent {command}: {answer['error']}")
        return answer.get("return")

    def ping(self) -> bool:
        self.agent("guest-ping", timeout=5)
        return True

    def info(self) -> dict:
        return self.agent("guest-info")

    def exec(self, argv, timeout: float = 30) -> CommandResult:
        """Run ``argv`` in the guest through guest-exec; wait (bounded) for it to exit.

        The command leads a session (and process group) of its own: past ``timeout`` the
        group is killed, so nothing it started outlives the check (guests are shared)."""
        argv = [str(a) for a in argv]
        started = self.agent("guest-exec", path=GUEST_SETSID, arg=argv,
                             **{"capture-output": True})
        pid = started["pid"]
        deadline = time.monotonic() + timeout

        def finished():
            # an agent that stalls may not carry the wait past its deadline by its own 10 s
            left = max(1, min(10, math.ceil(deadline - time.monotonic())))
            status = self.agent("guest-exec-status", timeout=left, pid=pid)
            return status if status.get("exited") else None

        try:
            status = wait_until_or_raise(finished, timeout,
                                         f"guest-exec of {argv[0]!r} did not exit",
                                         interval=0.05, detail=lambda: f"guest pid {pid}")
        except WaitTimeout as timed_out:
            raise WaitTimeout(timed_out.what, timed_out.timeout, timed_out.last,
                              f"{timed_out.detail}; {self._kill_group(pid)}") from None
        return CommandResult(status.get("exitcode", -status.get("signal", 1) or -1),
                             _decode(status.get("out-data")), _decode(status.get("err-data")),
                             tuple(argv))

    def _kill_group(self, pid: int) -> str:
        """SIGKILL the process group ``pid`` leads in the guest; say how that went (best effort:
        a guest that does not answer the agent cannot be helped here)."""
        try:
            kill = self.agent("guest-exec", timeout=KILL_WAIT, path=GUEST_KILL,
                              arg=["-KILL", f"-{pid}"])["pid"]
            wait_until(lambda: self.agent("guest-exec-status", timeout=KILL_WAIT,
                                          pid=kill)["exited"],
                       KILL_WAIT, "guest kill did not exit", interval=0.05)
            self.agent("guest-exec-status", timeout=KILL_WAIT, pid=pid)  # qemu-ga forgets it once read
        except (HarnessError, libvirt.libvirtError) as exc:
            return f"killing its process group failed: {exc}"
        return "its process group was killed"

    def shell(self, command: str, timeout: float = 30) -> CommandResult:
        """Run a command with the guest's /bin/sh (the command runs inside the guest only)."""
        return self.exec(["/bin/sh", "-c", command], timeout)

    # -- the console --------------------------------------------------------------------
    def console_log(self) -> str:
        return self._console_bytes().decode(errors="replace")

    def _console_bytes(self) -> bytes:
        return self.console.read(MAX_CONSOLE)

    def console_tail(self, lines: int = 15) -> str:
        return "\n".join(self.console_log().splitlines()[-lines:])

    def boot_ids(self) -> list[str]:
        """Boot ids announced on the console, oldest first (one per boot of the guest)."""
        return [m.decode() for m in BOOT_MARKER.findall(self._console_bytes())]

    # -- waits --------------------------------------------------------------------------
    def _detail(self) -> str:
        state, reason = self.state()
        return f"domain {state} {reason}; console tail:\n{self.console_tail()}"

    def wait_for_boot(self, timeout: float = 120, after: int = 0) -> str:
        """Wait for boot number ``after + 1`` to print its marker; return its boot id."""
        def booted():
            ids = self.boot_ids()
            if len(ids) > after:
                return ids[after]
            if self.state()[0] in ("shutoff", "crashed", "gone"):
                raise GuestError(f"{self.name} stopped before booting: {self._detail()}")
            return None

        return wait_until_or_raise(booted, timeout, f"{self.name}: no boot marker",
                                   detail=self._detail)

    def wait_for_agent(self, timeout: float = 60) -> None:
        wait_until(self.ping, timeout, f"{self.name}: agent not connected", interval=0.2,
                   detail=self._detail)

    def wait_for_event(self, kind: str, timeout: float, detail: str | None = None, since: int = 0):
        """Wait for an event of ``kind`` (and ``detail``) among events[since:]; return it."""
        def seen():
            for event in self.events[since:]:
                if event.kind == kind and (detail is None or event.detail == detail):
                    return event
            return None
        what = f"{self.name}: no {kind} event" + (f" ({detail})" if detail else "")
        return wait_until(seen, timeout, what, detail=self._detail)

    def wait_for_state(self, state: str, timeout: float, reason: str | None = None):
        def reached():
            now = self.state()
            return now if now[0] == state and (reason is None or now[1] == reason) else None
        what = f"{self.name}: not {state}" + (f" ({reason})" if reason else "")
        return wait_until(reached, timeout, what, detail=self._detail)

    # -- teardown -----------------------------------------------------------------------
    def save_artifacts(self, directory: Path) -> None:
        """Copy domain XML, console and QEMU log into ``directory`` (for failed tests)."""
        directory.mkdir(parents=True, exist_ok=True)
        try:
            (directory / f"{self.name}.xml").write_text(self.domain.XMLDesc(0))
        except libvirt.libvirtError:
            pass
        (directory / f"{self.name}.console.log").write_bytes(self._console_bytes())
        try:
            qemu_log = self.host.read_bytes(qemu_log_path(self.name), MAX_CONSOLE)
        except (OSError, HarnessError):
            return
        (directory / f"{self.name}.qemu.log").write_bytes(qemu_log)

    def destroy(self) -> None:
        """Stop and undefine the domain, remove its console and QEMU logs. Idempotent."""
        if self.destroyed:
            return
        remove_domain(self.domain, self.host)
        self._hub.forget(self.uuid)
        self.console.remove()
        self.destroyed = True


# Undefine without deleting anything on the host: the harness never creates nvram, TPM
# state or managed-save files, so any such file a domain names is not its to remove.
UNDEFINE_FLAGS = (libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
                  | getattr(libvirt, "VIR_DOMAIN_UNDEFINE_KEEP_TPM", 0))


def destroy_domain(domain: libvirt.virDomain) -> None:
    """Destroy (if running) and undefine ``domain``, ignoring "already gone"; libvirt is
    never asked to delete a file (nvram, TPM state, managed save) with it."""
    try:
        if domain.isActive():
            domain.destroy()
    except libvirt.libvirtError:
        pass
    try:
        domain.undefineFlags(UNDEFINE_FLAGS)
    except libvirt.libvirtError:
        pass


def remove_domain(domain: libvirt.virDomain, host=None) -> str:
    """Destroy and undefine ``domain`` and remove its QEMU log on the libvirt host (best
    effort: a host without shell access keeps the log); its name."""
    try:
        name = domain.name()
    except libvirt.libvirtError:
        name = ""
    destroy_domain(domain)
    if name:
        try:
            (host or LocalHost()).remove(qemu_log_path(name))
        except (OSError, HarnessError):
            pass
    return name


def _decode(data: str | None) -> bytes:
    """Base64 guest-exec output, decoded up to MAX_OUTPUT bytes (cut on a 4-character
    boundary, so a long stream is capped rather than broken)."""
    if not data:
        return b""
    try:
        return base64.b64decode(data[: -(-MAX_OUTPUT // 3) * 4], validate=False)[:MAX_OUTPUT]
    except (binascii.Error, ValueError, TypeError) as exc:
        raise AgentError(f"guest-exec output is not base64: {exc}") from None
