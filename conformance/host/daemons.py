"""The libvirt daemons of this host: find the ones running, start only what is missing.

A daemon counts as running when its socket accepts, its pid file names a live process,
or a process of that name (or, for libvirtd, the modular ``virtqemud`` that serves
``qemu:///system`` in its place) exists: a daemon that is still starting is waited for,
never started a second time. Under systemd (``/run/systemd/system``) a missing daemon is
started by ``systemctl start``; elsewhere by ``NAME -d`` (libvirtd under
:mod:`conformance.host.reaper`). Stdlib only.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

SYSTEMD_MARKER = "/run/systemd/system"  # sd_booted(3)
REAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reaper.py")
SOCKET_DEADLINE = 30.0


@dataclass(frozen=True)
class Daemon:
    name: str
    pid_file: str
    sockets: tuple[str, ...]  # any one accepting means the service is there
    processes: tuple[str, ...]  # process names (comm) that provide it
    units: tuple[str, ...]  # systemd units that start it, tried in order


DAEMONS = [  # started in this order
    Daemon("virtlogd", "/run/virtlogd.pid", ("/run/libvirt/virtlogd-sock",), ("virtlogd",),
           ("virtlogd.service",)),
    Daemon("libvirtd", "/run/libvirtd.pid",
           ("/run/libvirt/libvirt-sock", "/run/libvirt/virtqemud-sock"), ("libvirtd", "virtqemud"),
           ("libvirtd.service", "virtqemud.service")),
]
LIBVIRT = DAEMONS[1]


class DaemonError(RuntimeError):
    """A daemon could not be started or did not answer in time."""


# ---- probes -------------------------------------------------------------------------------

def pid_alive(pid_file: str) -> bool:
    try:
        with open(pid_file) as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def socket_accepts(path: str, timeout: float = 1.0) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def process_names(proc: str = "/proc") -> set[str]:
    """The ``comm`` of every process in this process's PID and mount namespaces (a daemon
    of a container or namespace test host is not this host's)."""
    def namespaces(pid: str) -> tuple[str, str]:
        return tuple(os.readlink(os.path.join(proc, pid, "ns", ns)) for ns in ("pid", "mnt"))
    names, own = set(), namespaces("self")
    for pid in os.listdir(proc):
        if pid.isdigit():
            try:
                if namespaces(pid) == own:
                    with open(os.path.join(proc, pid, "comm")) as f:
                        names.add(f.read().strip())
            except OSError:
                pass
    return names


def running(daemon: Daemon, names: set[str] | None = None) -> bool:
    """True when ``daemon`` (or what provides it) is up or starting."""
    if any(socket_accepts(s) for s in daemon.sockets) or pid_alive(daemon.pid_file):
        return True
    return bool(set(daemon.processes) & (process_names() if names is None else names))


def under_systemd(marker: str = SYSTEMD_MARKER) -> bool:
    return os.path.isdir(marker)


# ---- decisions (pure) ---------------------------------------------------------------------

def to_start(up: dict[str, bool]) -> list[Daemon]:
    """Daemons (in start order) not up."""
    return [d for d in DAEMONS if not up.get(d.name, False)]


def start_command(daemon: Daemon, systemd: bool, unit: str | None = None) -> list[str]:
    """How to start ``daemon``: its systemd unit, else the daemon itself (libvirtd under the
    reaper, which reaps its QEMU processes at once where PID 1 is slow)."""
    if systemd:
        return ["systemctl", "start", unit or daemon.units[0]]
    if daemon is LIBVIRT:
        return [sys.executable, REAPER, daemon.name, "-d"]
    return [daemon.name, "-d"]


# ---- actions ------------------------------------------------------------------------------

def start(daemon: Daemon, systemd: bool) -> str:
    """Start ``daemon``; return what was started (a unit or the daemon's name)."""
    if systemd:
        errors = []
        for unit in daemon.units:
            res = subprocess.run(start_command(daemon, True, unit), capture_output=True, text=True)
            if res.returncode == 0:
                return unit
            errors.append(f"{unit}: {res.stderr.strip()}")
        raise DaemonError(f"systemctl could not start {daemon.name}: " + "; ".join(errors))
    argv = start_command(daemon, False)
    if daemon is LIBVIRT:
        # The reaper outlives this call (it waits for the daemon and its guests); its own
        # exit status is not the daemon's, so success is judged by the socket afterwards.
        subprocess.Popen(argv, cwd="/", start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)
        return daemon.name
    res = subprocess.run(argv, capture_output=True, text=True)
    if res.returncode != 0:
        raise DaemonError(f"{daemon.name} -d failed: {res.stderr.strip()}")
    return daemon.name


def wait_for_libvirt(deadline_s: float = SOCKET_DEADLINE, accepts=socket_accepts,
                     clock=time.monotonic, pause=time.sleep) -> None:
    """Poll until one of libvirt's sockets accepts; DaemonError after ``deadline_s``."""
    end = clock() + deadline_s
    while True:
        if any(accepts(s) for s in LIBVIRT.sockets):
            return
        if clock() >= end:
            raise DaemonError(f"{' or '.join(LIBVIRT.sockets)} did not accept connections within "
                              f"{deadline_s:.0f} s (is libvirtd running? try `libvirtd -d`)")
        pause(0.2)
