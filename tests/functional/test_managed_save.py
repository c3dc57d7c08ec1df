"""The managed save of suspend_resume on a real libvirt: what libvirt does with a definition
changed while the image exists (the harness's resume relies on it:
conformance/live/local_operations.py), and a guest with an image leaves nothing behind when
it is destroyed, also in the middle of the save: neither the domain nor libvirt's image
(/var/lib/libvirt/qemu/save/<name>.save), which would otherwise make libvirt refuse the
undefine (conformance/lab/teardown.py)."""

import os
import threading
import uuid

import libvirt
import pytest
from lxml import etree

from conformance.lab.cleanup import owned_domains
from fixtures.guests import reference_xml, wait_ready

pytestmark = pytest.mark.functional
SAVE_DIR = "/var/lib/libvirt/qemu/save"


def _image(guest) -> str:
    return f"{SAVE_DIR}/{guest.name}.save"


def _gone(lab, guest) -> bool:
    return guest.uuid not in {d.UUIDString() for d, _ in owned_domains(lab.connected(), run_id=lab.run.id)}


@pytest.fixture
def local_lab(lab):
    if lab.remote:
        pytest.skip("the managed save image is a file of the libvirt host; this lab's host is remote")
    return lab


def test_a_guest_destroyed_while_suspended_takes_its_image_along(local_lab, booted_guest):
    booted_guest.domain.managedSave(0)
    assert booted_guest.domain.hasManagedSaveImage(0) == 1 and os.path.exists(_image(booted_guest))
    booted_guest.destroy()
    assert not os.path.exists(_image(booted_guest)) and _gone(local_lab, booted_guest)


def test_a_guest_destroyed_during_its_managed_save_leaves_nothing(local_lab, booted_guest):
    """The destroy races the save: either the save is cut (libvirt drops the partial image) or
    it completes first (the undefine removes the image); nothing is left either way."""
    errors = []

    def save():
        try:
            booted_guest.domain.managedSave(0)
        except libvirt.libvirtError as exc:
            errors.append(exc.get_error_message())

    saving = threading.Thread(target=save)
    saving.start()
    booted_guest.destroy()
    saving.join(60)
    assert not saving.is_alive()
    assert not os.path.exists(_image(booted_guest)) and _gone(local_lab, booted_guest), errors


def test_a_resume_restores_the_saved_domain_and_keeps_the_new_definition(
        local_lab, guest_factory, guest_image, accelerator, conformance_config):
    """libvirt accepts a definition without the RNG rate while the image exists; the start
    restores the saved domain (the rate runs on) and the new definition stays what the next
    start boots; the image is gone after the restore."""
    name = f"instance-{uuid.uuid4().hex[:8]}"
    rate = {"hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "1000"}
    guest = wait_ready(guest_factory(reference_xml(guest_image, accelerator.virt_type, name, rate),
                                     instance_name=name), conformance_config)
    domain = guest.domain
    domain.managedSave(0)
    changed = etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
    for element in changed.iterfind("devices/rng/rate"):
        element.getparent().remove(element)
    local_lab.define(etree.tostring(changed, encoding="unicode"))
    assert domain.hasManagedSaveImage(0) == 1
    domain.create()
    assert domain.hasManagedSaveImage(0) == 0 and not os.path.exists(_image(guest))
    assert etree.fromstring(domain.XMLDesc(0).encode()).find("devices/rng/rate") is not None
    kept = etree.fromstring(domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
    assert kept.find("devices/rng") is not None and kept.find("devices/rng/rate") is None
    guest.wait_for_agent(conformance_config.agent_timeout)  # the restored guest runs on
