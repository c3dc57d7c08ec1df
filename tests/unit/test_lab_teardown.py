"""Teardown never asks libvirt to delete a file the harness did not create (fake domain)."""

import libvirt

from conformance.lab.teardown import destroy_domain

# flags of virDomainUndefineFlags that make libvirt delete host files
DELETING = {"VIR_DOMAIN_UNDEFINE_NVRAM": "the nvram file", "VIR_DOMAIN_UNDEFINE_TPM": "TPM state",
            "VIR_DOMAIN_UNDEFINE_MANAGED_SAVE": "the managed save image"}


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
