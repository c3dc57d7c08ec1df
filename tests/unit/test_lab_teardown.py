"""Teardown never asks libvirt to delete a file the harness did not create, and removes the
managed save image its suspend created (fake domain)."""

import libvirt

from conformance.lab.teardown import destroy_domain

# flags of virDomainUndefineFlags that make libvirt delete host files
DELETING = {"VIR_DOMAIN_UNDEFINE_NVRAM": "the nvram file", "VIR_DOMAIN_UNDEFINE_TPM": "TPM state"}


class Recording:
    def __init__(self):
        self.flags = []

    def isActive(self):
        return True

    def destroy(self):
        pass

    def undefineFlags(self, flags):
        self.flags.append(flags)


def test_undefine_keeps_nvram_and_every_other_host_file():
    """The undefine flags keep nvram (VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) and ask for no deletion:
    a driver-named <nvram> (or one left by an older harness) is not the harness's to remove."""
    domain = Recording()
    destroy_domain(domain)
    [flags] = domain.flags
    for name, what in DELETING.items():
        value = getattr(libvirt, name, 0)
        assert not flags & value, f"teardown asks libvirt to delete {what} ({name})"
    assert flags & libvirt.VIR_DOMAIN_UNDEFINE_KEEP_NVRAM


def test_undefine_removes_the_managed_save_image():
    """A guest destroyed while suspended (shut off with a managed save image, or mid-save) is
    undefined with its image (libvirt refuses the undefine otherwise, and the domain and the
    image under /var/lib/libvirt/qemu/save would leak): VIR_DOMAIN_UNDEFINE_MANAGED_SAVE."""
    domain = Recording()
    domain.isActive = lambda: False
    destroy_domain(domain)
    [flags] = domain.flags
    assert flags & libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
