"""Removing a domain the lab defined: destroy, undefine, its QEMU log on the libvirt host."""

from __future__ import annotations

import libvirt

from conformance.errors import HarnessError
from conformance.lab.host import LocalHost


def qemu_log_path(name: str) -> str:
    """libvirt's QEMU log of domain ``name`` on the libvirt host (system mode)."""
    return f"/var/log/libvirt/qemu/{name}.log"


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
