"""Find and remove what earlier runs left behind, selected by the ownership marker only.

A domain without the marker is never touched, whatever its name. A domain whose owning
process is still alive belongs to a running suite and is left alone unless ``force``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
from lxml import etree

from conformance.lab.guest import destroy_domain
from conformance.lab.runs import OWNER_NS, STATE_DIR, Owner, process_start_time


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


def owner_of(domain: libvirt.virDomain) -> Owner | None:
    """The ownership marker of ``domain``, or None when it has none (a foreign domain)."""
    try:
        text = domain.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, OWNER_NS, 0)
    except libvirt.libvirtError:
        return None
    try:
        return Owner.from_element(etree.fromstring(text.encode(), _PARSER))
    except etree.XMLSyntaxError:
        return None


def owned_domains(conn: libvirt.virConnect, run_id: str | None = None):
    """(domain, owner) for every domain carrying the marker (of ``run_id`` if given)."""
    found = []
    for domain in conn.listAllDomains(0):
        owner = owner_of(domain)
        if owner is not None and (run_id is None or owner.run == run_id):
            found.append((domain, owner))
    return found


@dataclass
class CleanupReport:
    removed_domains: list[str] = field(default_factory=list)
    kept_domains: list[str] = field(default_factory=list)   # owner still running
    removed_dirs: list[str] = field(default_factory=list)


def cleanup(conn: libvirt.virConnect, run_id: str | None = None, force: bool = False,
            state_dir: Path = STATE_DIR) -> CleanupReport:
    """Remove domains and run directories of dead runs (or of ``run_id``)."""
    report = CleanupReport()
    for domain, owner in owned_domains(conn, run_id):
        name = domain.name()
        if owner.alive() and not force and run_id is None:
            report.kept_domains.append(name)
            continue
        destroy_domain(domain)
        Path(f"/var/log/libvirt/qemu/{name}.log").unlink(missing_ok=True)
        report.removed_domains.append(name)
    runs = Path(state_dir) / "runs"
    for run_dir in sorted(runs.iterdir()) if runs.is_dir() else ():
        if run_id is not None and run_dir.name != run_id:
            continue
        if run_id is None and not force and _run_dir_alive(run_dir):
            continue
        shutil.rmtree(run_dir, ignore_errors=True)
        report.removed_dirs.append(str(run_dir))
    return report


def _run_dir_alive(run_dir: Path) -> bool:
    try:
        pid, started = (run_dir / "owner").read_text().split()
    except (OSError, ValueError):
        return False
    return process_start_time(int(pid)) == started
