"""What a run can leave on the host, looked up by run id and by owning pid."""

from __future__ import annotations

import glob
from pathlib import Path

from lxml import etree

from conformance.lab.cleanup import owned_domains
from conformance.lab.runs import STATE_DIR

QEMU_LOG_DIR = Path("/var/log/libvirt/qemu")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def owner_pid_of_run_dir(run_dir: Path) -> int | None:
    try:
        return int((run_dir / "owner").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def host_paths(domain) -> set[str]:
    """Console files and agent/monitor sockets a running domain uses on the host."""
    try:
        root = etree.fromstring(domain.XMLDesc(0).encode(), _PARSER)
    except Exception:  # noqa: BLE001 - the domain may be gone already
        return set()
    return {source.get("path") for source in root.iterfind("devices/*/source")
            if source.get("path")}


def leftovers(conn, run_ids=(), pids=(), paths=()) -> list[str]:
    """Everything still on the host that belongs to ``run_ids`` or processes ``pids``:
    marked domains, run directories, console logs, QEMU logs, agent sockets, pid files."""
    run_ids, pids = set(run_ids), set(pids)
    found = [f"domain {d.name()} (run {o.run}, pid {o.pid})" for d, o in owned_domains(conn)
             if o.run in run_ids or o.pid in pids]
    runs = STATE_DIR / "runs"
    for run_dir in (runs.iterdir() if runs.is_dir() else ()):
        if run_dir.name in run_ids or owner_pid_of_run_dir(run_dir) in pids:
            found.append(f"run dir {run_dir}")
    for run_id in run_ids:
        for pattern in (f"{QEMU_LOG_DIR}/cfm-{run_id}-*", f"/run/libvirt/qemu/cfm-{run_id}-*",
                        f"/var/lib/libvirt/qemu/domain-*-cfm-{run_id}-*",
                        f"/var/lib/libvirt/qemu/channel/target/domain-*-cfm-{run_id}-*"):
            found.extend(f"file {p}" for p in glob.glob(pattern))
    found.extend(f"file {p}" for p in paths if Path(p).exists())
    return sorted(found)
