"""A running guest: live XML, QEMU pid, QMP, guest agent, console, events and bounded waits.

Guest output (agent answers, exec output, console) is untrusted data: it is size-capped,
decoded with replacement, and never evaluated or put into a shell on the host.

A libvirt host or daemon that goes away is the host's error, never the guest's: a call cut
by it raises HostUnreachable naming the host, and after the lab reconnected (libvirtd
restarted) the guest follows its domain to the new connection (:mod:`conformance.lab.link`).
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

from conformance.errors import GuestError, HarnessError, HostUnreachable, WaitTimeout
from conformance.lab.console import LocalConsole
from conformance.lab.events import EventHub
from conformance.lab.history import GuestHistory
from conformance.lab.host import LocalHost
from conformance.lab.link import DomainGone, DomainLink
from conformance.lab.teardown import remove_domain
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
    """A domain the lab defined and started. Create through :class:`conformance.lab.Lab`
    (``lab``: whose connection the guest follows across reconnects)."""

    def __init__(self, domain: libvirt.virDomain, console, hub: EventHub, host=None, lab=None):
        self.link = DomainLink(domain, hub, lab)
        self.name, self.uuid = self.link.name, self.link.uuid
        self.console = console if not isinstance(console, (str, Path)) else LocalConsole(str(console))
        self.console_path = Path(self.console.path)  # on the libvirt host
        self.host = host or LocalHost()  # the libvirt host's files and commands
        self._pid: int | None = None
        self.destroyed = False
        self.history = GuestHistory()  # definitions and QMP answers, for failure artefacts

    # -- the libvirt connection (followed across reconnects: conformance.lab.link) -------
    @property
    def uri(self) -> str:
        return self.link.uri

    @property
    def domain(self) -> libvirt.virDomain:
        return self.link.domain

    def _call(self, what: str, call):
        return self.link.call(what, call)

    def events_mark(self) -> int:
        return self.link.mark()

    def require_events_since(self, mark: int, what: str) -> None:
        self.link.require_events_since(mark, what)

    # -- what the host sees -------------------------------------------------------------
    def live_xml(self) -> etree._Element:
        try:
            text = self._call("the live XML read", lambda d: d.XMLDesc(0))
        except libvirt.libvirtError as exc:
            raise GuestError(f"{self.name}: live XML unavailable: {exc.get_error_message()}") from None
        return etree.fromstring(text.encode(), _PARSER)

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
        """(state, reason) e.g. ("paused", "watchdog"); ("gone", "") once undefined.
        HostUnreachable when the host went away (a dead connection is no undefined domain)."""
        try:
            state, reason = self._call("the state read", lambda d: d.state())
        except DomainGone:
            return "gone", ""
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return "gone", ""
            raise GuestError(f"{self.name}: state unavailable: {exc.get_error_message()}") from None
        text = STATES.get(state, str(state))
        why = PAUSED_REASONS.get(reason, str(reason)) if state == libvirt.VIR_DOMAIN_PAUSED else str(reason)
        return text, why

    def qmp(self, command: str, **arguments):
        """Run a QMP command on the QEMU monitor; return its "return" value."""
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        try:
            text = self._call(f"QMP {command}",
                              lambda d: libvirt_qemu.qemuMonitorCommand(d, json.dumps(message), 0))
        except libvirt.libvirtError as exc:
            self.history.qmp(command, arguments, error=exc.get_error_message())
            raise GuestError(f"QMP {command} failed: {exc.get_error_message()}") from None
        answer = json.loads(text)
        if "error" in answer:
            self.history.qmp(command, arguments, error=str(answer["error"]))
            raise GuestError(f"QMP {command} failed: {answer['error']}")
        self.history.qmp(command, arguments, answer.get("return"))
        return answer.get("return")

    def note_booted(self) -> None:
        """Keep the XML libvirt runs now as the booted XML of the latest definition
        (:attr:`history`); best effort: a guest whose XML cannot be read keeps none."""
        try:
            text = self._call("the live XML read", lambda d: d.XMLDesc(0))
        except (libvirt.libvirtError, HarnessError):
            text = None
        self.history.booted(text)

    @property
    def events(self):
        """Events of this domain, oldest first (across reconnects: none arrive meanwhile)."""
        return self.link.events()

    # -- the guest agent ---------------------------------------------------------------
    def agent(self, command: str, timeout: int = 10, **arguments):
        """Run a guest-agent command; return its "return" value or raise AgentError."""
        message = {"execute": command, **({"arguments": arguments} if arguments else {})}
        try:
            text = self._call(f"agent {command}", lambda d: libvirt_qemu.qemuAgentCommand(
                d, json.dumps(message), timeout, 0))
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
                   detail=self._detail, fatal=(HostUnreachable,))

    def wait_for_event(self, kind: str, timeout: float, detail: str | None = None, since: int = 0):
        """Wait for an event of ``kind`` (and ``detail``) among events[since:]; return it."""
        def seen():
            for event in self.events[since:]:
                if event.kind == kind and (detail is None or event.detail == detail):
                    return event
            return None
        what = f"{self.name}: no {kind} event" + (f" ({detail})" if detail else "")
        mark = self.events_mark()
        try:
            return wait_until(seen, timeout, what, detail=self._detail)
        except WaitTimeout:
            self.require_events_since(mark, f"a {kind} event")
            raise

    def wait_for_state(self, state: str, timeout: float, reason: str | None = None):
        def reached():
            now = self.state()
            return now if now[0] == state and (reason is None or now[1] == reason) else None
        what = f"{self.name}: not {state}" + (f" ({reason})" if reason else "")
        return wait_until(reached, timeout, what, detail=self._detail, fatal=(HostUnreachable,))

    # -- teardown -----------------------------------------------------------------------
    def destroy(self) -> None:
        """Stop and undefine the domain, remove its console and QEMU logs. Idempotent."""
        if self.destroyed:
            return
        try:
            domain = self.domain
        except DomainGone:
            domain = None
        except HarnessError:  # the host is gone: the old handle, best effort (Lab.close
            domain = self.link.last_handle  # removes what carries the run's marker later)
        if domain is not None:
            remove_domain(domain, self.host)
        self.link.forget()
        self.console.remove()
        self.destroyed = True


def _decode(data: str | None) -> bytes:
    """Base64 guest-exec output, decoded up to MAX_OUTPUT bytes (cut on a 4-character
    boundary, so a long stream is capped rather than broken)."""
    if not data:
        return b""
    try:
        return base64.b64decode(data[: -(-MAX_OUTPUT // 3) * 4], validate=False)[:MAX_OUTPUT]
    except (binascii.Error, ValueError, TypeError) as exc:
        raise AgentError(f"guest-exec output is not base64: {exc}") from None
