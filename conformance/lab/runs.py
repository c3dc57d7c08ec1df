"""Run identity: run id, per-run directory, domain names and the ownership marker.

Every domain the suite defines carries ``<metadata><cfm:owner .../></metadata>`` naming the
run, the owning process, that process's start time (so a reused pid is not mistaken for
the owner) and the harness machine (host name and boot id: a libvirt host shared by
several harness machines never sees one judge another's runs dead). Cleanup selects
domains by this marker only, never by name.
"""

from __future__ import annotations

import functools
import itertools
import os
import secrets
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

STATE_DIR = Path(os.environ.get("CONFORMANCE_STATE_DIR", "/var/lib/conformance"))
OWNER_NS = "urn:hv-conformance:owner:1"
OWNER_TAG = f"{{{OWNER_NS}}}owner"
NAME_PREFIX = "cfm-"


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()
    except (OSError, IndexError):
        return None


@functools.cache
def harness_machine() -> tuple[str, str]:
    """(host name, boot id) of the machine the harness runs on."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            boot = f.read().strip()
    except OSError:
        boot = ""
    return socket.gethostname(), boot


@dataclass(frozen=True)
class Owner:
    run: str
    pid: int
    started: str
    host: str = ""  # harness machine; "" in markers written before it was recorded
    boot: str = ""

    def alive(self) -> bool:
        """True while the owning process still runs (same pid and same start time). A run
        of another harness machine counts as alive: its process cannot be seen from here."""
        host, boot = harness_machine()
        if self.host and self.host != host:
            return True
        if self.boot and self.boot != boot:
            return False  # this machine rebooted since: the process is gone
        return process_start_time(self.pid) == self.started

    def element(self) -> etree._Element:
        return etree.Element(OWNER_TAG, nsmap={"cfm": OWNER_NS}, run=self.run,
                             pid=str(self.pid), started=self.started, host=self.host,
                             boot=self.boot)

    @classmethod
    def from_element(cls, element) -> "Owner | None":
        try:
            return cls(element.get("run"), int(element.get("pid")), element.get("started"),
                       element.get("host") or "", element.get("boot") or "")
        except (TypeError, ValueError):
            return None


class Run:
    """One process's share of a test or certification run."""

    def __init__(self, run_id: str | None = None, state_dir: Path = STATE_DIR):
        self.id = run_id or secrets.token_hex(4)
        self.dir = Path(state_dir) / "runs" / self.id
        pid = os.getpid()
        self.owner = Owner(self.id, pid, process_start_time(pid) or "", *harness_machine())
        self._counter = itertools.count(1)

    def create(self) -> "Run":
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        (self.dir / "owner").write_text(f"{self.owner.pid} {self.owner.started}\n")
        return self

    def domain_name(self, slug: str = "guest") -> str:
        """A libvirt name unique to this run: ``cfm-<run-id>-<n>-<slug>``."""
        clean = "".join(c if c.isalnum() or c in "-_" else "-" for c in slug)[:24] or "guest"
        return f"{NAME_PREFIX}{self.id}-{next(self._counter)}-{clean}"

    def path(self, filename: str) -> Path:
        return self.dir / filename

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


TEMP_PREFIXES = ("cfm-certify-", "cfm-fleet-")  # certify's temp dirs (pytest child, fleet)
UNOWNED_TEMP_AGE_S = 3600  # such a dir without an owner file (older harness) is stale after


def owned_temp_dir(prefix: str) -> Path:
    """A new temp dir with an ``owner`` file (pid and start time, as a run dir has), so that
    ``conformance cleanup`` can remove it once its process is dead (killed with SIGKILL)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    pid = os.getpid()
    (path / "owner").write_text(f"{pid} {process_start_time(pid) or ''}\n")
    return path


def owner_alive(directory: Path) -> bool:
    """Whether the process named by ``directory/owner`` ("pid start-time") still runs."""
    try:
        pid, started = (directory / "owner").read_text().split()
    except (OSError, ValueError):
        return False
    return process_start_time(int(pid)) == started


def remove_dead_temp_dirs(temp_root: str | None = None, now: float | None = None) -> list[str]:
    """Remove certify temp dirs (TEMP_PREFIXES) whose owner is dead, or that have no owner
    file and are older than UNOWNED_TEMP_AGE_S; the paths removed."""
    root = Path(temp_root or tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    for path in sorted(root.iterdir()) if root.is_dir() else ():
        if not path.name.startswith(TEMP_PREFIXES) or not path.is_dir() or path.is_symlink():
            continue
        if (path / "owner").exists():
            if owner_alive(path):
                continue
        elif now - path.stat().st_mtime < UNOWNED_TEMP_AGE_S:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(str(path))
    return removed
