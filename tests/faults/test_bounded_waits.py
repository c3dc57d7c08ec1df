"""Every way a guest can fail to come up ends in a named error within its deadline, the
failed guest is gone, and the lab goes on working."""

from __future__ import annotations

import dataclasses
import os
import uuid

import pytest
from lxml import etree

from conformance.errors import GuestError, WaitTimeout
from conformance.lab.cleanup import owned_domains
from fixtures.guests import reference_xml

pytestmark = pytest.mark.functional


def _start(lab, guest_factory, image, accelerator, boot=None, edit=None):
    """Start a reference guest, optionally with other boot files or edited XML."""
    name = f"instance-{uuid.uuid4().hex[:8]}"
    xml = reference_xml(dataclasses.replace(image, **(boot or {})), accelerator.virt_type, name)
    if edit is not None:
        dom = etree.fromstring(xml)
        edit(dom)
        xml = etree.tostring(dom, encoding="unicode")
    placement = lab.placement(dataclasses.replace(image, **(boot or {})).boot, slug="fault",
                              instance_name=name, loader=image.loader)
    return lab, placement, xml


def _names(lab) -> set[str]:
    return {d.name() for d, _o in owned_domains(lab.connected(), run_id=lab.run.id)}


def test_kernel_that_is_not_a_kernel_times_out_naming_the_boot_marker(lab, guest_factory,
                                                                      guest_image, accelerator):
    """QEMU runs but the "kernel" is junk: wait_for_boot raises WaitTimeout "no boot marker"
    after its deadline, with the domain state and console tail in the message."""
    junk = lab.run.path("not-a-kernel")
    junk.write_bytes(os.urandom(64 * 1024))
    _lab, placement, xml = _start(lab, guest_factory, guest_image, accelerator,
                                  boot={"kernel": str(junk)})
    try:
        guest = lab.start(xml, placement)
    except GuestError as exc:  # some QEMU builds refuse junk kernels at start: also named
        assert "did not start" in str(exc)
        assert placement.name not in _names(lab)
        return
    try:
        with pytest.raises((WaitTimeout, GuestError), match="no boot marker|stopped before booting") as err:
            guest.wait_for_boot(5)
        assert "console tail" in str(err.value)
    finally:
        guest.destroy()
    assert placement.name not in _names(lab)


def test_junk_initrd_runs_qemu_but_times_out_naming_the_boot_marker(lab, guest_factory,
                                                                   guest_image, accelerator):
    """A real kernel with a junk initrd keeps QEMU running (panic, reboot, again) but never
    prints the boot marker: WaitTimeout "no boot marker" after its deadline, with the
    domain state and console tail."""
    junk = lab.run.path("not-an-initrd")
    junk.write_bytes(os.urandom(64 * 1024))
    _lab, placement, xml = _start(lab, guest_factory, guest_image, accelerator,
                                  boot={"initrd": str(junk)})
    guest = lab.start(xml, placement)
    try:
        with pytest.raises(WaitTimeout, match="no boot marker after 8 s") as err:
            guest.wait_for_boot(8)
        assert "domain running" in str(err.value) and "console tail" in str(err.value)
    finally:
        guest.destroy()
    assert placement.name not in _names(lab)


def test_guest_without_agent_channel_fails_wait_for_agent(lab, guest_image, accelerator,
                                                           guest_factory):
    """A guest with no agent channel boots, but wait_for_agent raises WaitTimeout naming
    "agent not connected" within its deadline."""
    def drop_channel(dom):
        for channel in dom.findall("devices/channel"):
            channel.getparent().remove(channel)
    _lab, placement, xml = _start(lab, guest_factory, guest_image, accelerator, edit=drop_channel)
    guest = lab.start(xml, placement)
    try:
        guest.wait_for_boot(120)
        with pytest.raises(WaitTimeout, match="agent not connected after 3 s"):
            guest.wait_for_agent(3)
    finally:
        guest.destroy()
    assert placement.name not in _names(lab)


def test_missing_initrd_fails_start_with_libvirts_message(lab, guest_image, accelerator,
                                                          guest_factory):
    """An initrd path that does not exist (the sandbox accepts it: the harness supplied it)
    makes QEMU fail at start: GuestError with libvirt's message, nothing defined."""
    missing = f"/var/lib/conformance/missing-{uuid.uuid4().hex}.img"
    _lab, placement, xml = _start(lab, guest_factory, guest_image, accelerator,
                                  boot={"initrd": missing})
    with pytest.raises(GuestError, match="did not start") as err:
        lab.start(xml, placement)
    assert missing in str(err.value) or "No such file" in str(err.value), str(err.value)
    assert placement.name not in _names(lab)


def test_locked_memory_fails_start_with_libvirts_message(lab, guest_image, accelerator,
                                                         guest_factory):
    """<memoryBacking><locked/> cannot start on a host without CAP_SYS_RESOURCE and a small
    RLIMIT_MEMLOCK: GuestError naming libvirt's reason, the domain is undefined again."""
    def lock(dom):
        etree.SubElement(etree.SubElement(dom, "memoryBacking"), "locked")
    _lab, placement, xml = _start(lab, guest_factory, guest_image, accelerator, edit=lock)
    try:
        guest = lab.start(xml, placement)
    except GuestError as exc:
        assert "locked memory" in str(exc) or "Operation not permitted" in str(exc), str(exc)
        assert placement.name not in _names(lab)
        return
    guest.destroy()
    pytest.skip("this host lets QEMU lock guest memory (CAP_SYS_RESOURCE or a large "
                "RLIMIT_MEMLOCK), so a locked-memory guest starts")


def test_lab_still_boots_after_the_faults(booted_guest):
    """After the failed guests above, the same lab boots a guest whose agent answers."""
    assert booted_guest.ping()
