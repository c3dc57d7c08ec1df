"""Removing a domain the lab defined: destroy, undefine, its QEMU log on the libvirt host."""

from __future__ import annotations

import libvirt

from conformance.errors import HarnessError
from conformance.lab.host import LocalHost


def qemu_log_path(name: str) -> str:
    """libvirt's QEMU log of domain ``name`` on the libvirt host (system mode)."""
    return f"/var/log/libvirt/qemu/{name}.log"


# Undefine without deleting a file a domain names: the harness never creates nvram or TPM
# state, so any such file is not its to remove. The managed save image goes with the domain
# (as Nova's ``Guest.delete_configuration`` undefines): libvirt names it after the domain
# (/var/lib/libvirt/qemu/save/<name>.save), the name is harness-owned (the sandbox), and only
# the harness's suspend creates one; libvirt refuses to undefine a domain that has one.
UNDEFINE_FLAGS = (libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM
                  | getattr(libvirt, "VIR_DOMAIN_UNDEFINE_KEEP_TPM", 0)
                  | libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)


def destroy_domain(domain: libvirt.virDomain) -> None:
    """Destroy (if running) and undefine ``domain`` with its managed save image, ignoring
    "already gone"; libvirt is never asked to delete a file the domain names (nvram, TPM
    state) with it."""
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
