"""Find and remove what earlier runs left behind, selected by the ownership marker only.

A domain without the marker is never touched, whatever its name. A domain whose owning
process is still alive belongs to a running suite and is left alone unless ``force``.
On every host (local or remote) the same goes for the volumes of the harness pool: a
run's volumes go when its owner marker volume says the run is dead (or is missing, or has
been unreadable for an hour: a marker being uploaded cannot be read yet), and the pool
itself once it is empty.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
from lxml import etree

from conformance.lab import storage
from conformance.lab.teardown import remove_domain
from conformance.lab.runs import OWNER_NS, STATE_DIR, Owner, owner_alive

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
    removed_volumes: list[str] = field(default_factory=list)
    kept_volumes: list[str] = field(default_factory=list)   # owner still running


def cleanup(conn: libvirt.virConnect, run_id: str | None = None, force: bool = False,
            state_dir: Path = STATE_DIR, host=None) -> CleanupReport:
    """Remove domains, harness volumes and run directories of dead runs (or of ``run_id``).
    ``host`` (:func:`conformance.lab.host.host_access`) removes QEMU logs on the libvirt host."""
    report = CleanupReport()
    for domain, owner in owned_domains(conn, run_id):
        name = domain.name()
        if owner.alive() and not force and run_id is None:
            report.kept_domains.append(name)
            continue
        remove_domain(domain, host)
        report.removed_domains.append(name)
    _cleanup_volumes(conn, run_id, force, report)
    runs = Path(state_dir) / "runs"
    for run_dir in sorted(runs.iterdir()) if runs.is_dir() else ():
        if run_id is not None and run_dir.name != run_id:
            continue
        if run_id is None and not force and owner_alive(run_dir):
            continue
        shutil.rmtree(run_dir, ignore_errors=True)
        report.removed_dirs.append(str(run_dir))
    return report


def _cleanup_volumes(conn, run_id, force, report: CleanupReport) -> None:
    pool = storage.pool(conn, create=False)
    if pool is None:
        return
    for run, names in sorted(storage.run_volumes(pool).items()):
        if run_id is not None and run != run_id:
            continue
        if run_id is None and not force and storage.run_alive(conn, pool, run):
            report.kept_volumes += names
            continue
        report.removed_volumes += storage.remove_run(pool, run)
    storage.remove_pool_if_empty(conn)
