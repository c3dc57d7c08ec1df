"""Teardown and cleanup remove marked domains, never files the harness did not create
(real libvirt): a marked domain whose <nvram> names a canary file (defined here directly,
as an older harness that let a driver's <nvram> through would have) loses its definition,
the canary file stays."""

from __future__ import annotations

import uuid

import pytest

from conformance.lab.cleanup import cleanup, owned_domains
from conformance.lab.runs import Run
from faults.canary import Canaries

pytestmark = pytest.mark.functional
libvirt = pytest.importorskip("libvirt")

FIRMWARE = "/usr/share/qemu/bios-256k.bin"  # Debian's qemu-system-data; only named, never run


def marked_domain_with_nvram(run: Run, nvram) -> str:
    from lxml import etree
    metadata = etree.tostring(run.owner.element(), encoding="unicode")
    return (f"<domain type='qemu'><name>{run.domain_name('nvram')}</name><uuid>{uuid.uuid4()}</uuid>"
            f"<metadata>{metadata}</metadata><memory unit='MiB'>64</memory>"
            "<os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<loader readonly='yes' type='pflash'>{FIRMWARE}</loader><nvram>{nvram}</nvram></os>"
            "<features><acpi/></features><devices/></domain>")


def test_cleanup_keeps_an_nvram_file_it_did_not_create(host_lab):
    """cleanup (and Guest.destroy, through the same remove_domain) undefines the domain
    without deleting its nvram file."""
    conn = host_lab.connected()
    run = Run()
    with Canaries() as canaries:
        conn.defineXML(marked_domain_with_nvram(run, canaries.existing))
        assert len(owned_domains(conn, run_id=run.id)) == 1
        report = cleanup(conn, run_id=run.id)
        assert len(report.removed_domains) == 1
        assert owned_domains(conn, run_id=run.id) == []
        canaries.assert_untouched()
