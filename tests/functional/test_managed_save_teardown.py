"""A guest with a managed save image (the suspend of suspend_resume) leaves nothing behind
when it is destroyed, also in the middle of the save: neither the domain nor libvirt's image
(/var/lib/libvirt/qemu/save/<name>.save), which would otherwise make libvirt refuse the
undefine (conformance/lab/teardown.py)."""

import os
import threading

import libvirt
import pytest

from conformance.lab.cleanup import owned_domains

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
