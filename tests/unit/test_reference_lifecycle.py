"""Reference semantics per lifecycle operation (docs/reference-semantics.md, "Lifecycle operations")."""

from dataclasses import replace

import pytest

from conformance.catalogue import CASES
from conformance.contract import Flavor, HostSettings, Image, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference import ReferenceDriver, resolve


def outcome(request):
    try:
        return ReferenceDriver().build(request)
    except Rejected as exc:
        return exc.rejection.code


@pytest.mark.parametrize("operation", ["reboot", "stop_start"])
def test_reboot_and_stop_start_reproduce_create(operation):
    """For every create-time case, a reboot / stop-start yields create's XML or rejection."""
    for case in CASES:
        request = case.request()
        assert outcome(replace(request, operation=operation)) == outcome(request), case.slug


def test_resize_is_new_flavor_with_old_image():
    """An accepted resize has the features of a create with the new flavor and the image."""
    image = Image(properties={"hw_watchdog_action": "pause", "hw_qemu_guest_agent": "yes"})
    new = Flavor(name="m1.new", extra_specs={"hw:watchdog_action": "reset", "hw:pmu": "on",
                                             "hw_rng:rate_bytes": "10", "hw_rng:rate_period": "20"})
    resize = Request(operation="resize", old_flavor=Flavor(extra_specs={"hw:pmu": "off"}),
                     flavor=new, image=image)
    assert resolve(resize) == resolve(Request(flavor=new, image=image))
    assert resolve(resize).watchdog_action == "pause"  # the image still wins


def test_rebuild_is_old_flavor_with_new_image():
    """An accepted rebuild has the features of a create with the flavor and the new image."""
    flavor = Flavor(extra_specs={"hw:watchdog_action": "reset"})
    new = Image(name="new", properties={"hw_watchdog_action": "disabled", "img_hide_hypervisor_id": "yes"})
    rebuild = Request(operation="rebuild", old_image=Image(), flavor=flavor, image=new)
    assert resolve(rebuild) == resolve(Request(flavor=flavor, image=new))


@pytest.mark.parametrize("operation", ["resize", "rebuild"])
def test_pmu_conflict_precedes_numa_checks_after_create(operation):
    """Violating the PMU rule and the locked-memory rule: create reports LockMemoryForbidden,
    resize and rebuild FlavorImageConflict (_validate_flavor_image_numa_pci order)."""
    flavor = Flavor(name="m1.new", extra_specs={"hw:pmu": "off", "hw:locked_memory": "true"})
    image = Image(name="new", properties={"hw_pmu": "on"})
    assert outcome(Request(flavor=flavor, image=image)) == "LockMemoryForbidden"
    if operation == "resize":
        request = Request(operation="resize", old_flavor=Flavor(), flavor=flavor, image=image)
    else:  # the instance's flavor cannot lock memory without pages: put the rule in the image
        flavor = Flavor(extra_specs={"hw:pmu": "off"})
        image = Image(name="new", properties={"hw_pmu": "on", "hw_locked_memory": "true"})
        assert outcome(Request(flavor=flavor, image=image)) == "LockMemoryForbidden"
        request = Request(operation="rebuild", old_image=Image(), flavor=flavor, image=image)
    assert outcome(request) == "FlavorImageConflict"


@pytest.mark.parametrize("old, new, code", [
    ({}, {"hw_mem_page_size": "large"}, "ImageNUMATopologyRebuildConflict"),
    ({"hw_mem_page_size": "large"}, {}, "ImageNUMATopologyRebuildConflict"),
    ({"hw_mem_page_size": "2048"}, {"hw_mem_page_size": "2MiB"}, None),  # the same 2048 KiB
    ({"hw_mem_page_size": "large"}, {"hw_mem_page_size": "small"}, "ImageNUMATopologyRebuildConflict"),
])
def test_rebuild_refuses_a_numa_topology_change(old, new, code):
    """Under flavor page size 'any', the image's page size is the topology's: it must not change."""
    flavor = Flavor(extra_specs={"hw:mem_page_size": "any"})
    request = Request(operation="rebuild", flavor=flavor, old_image=Image(properties=old),
                      image=Image(name="new", properties=new))
    got = outcome(request)
    assert (got if not got.startswith("<") else None) == code


def test_rebuild_to_the_same_image_skips_the_numa_check():
    """Nova runs _validate_numa_rebuild only when the image changes."""
    image = Image(properties={"hw_mem_page_size": "large"})
    request = Request(operation="rebuild", flavor=Flavor(extra_specs={"hw:mem_page_size": "any"}),
                      old_image=image, image=image)
    assert outcome(request).startswith("<domain")


def test_reboot_rechecks_the_host_rng_device():
    """A hard reboot runs the driver's RNG path check against the host as it is now."""
    request = Request(operation="reboot", host=HostSettings(rng_dev_path="/nonexistent/rng"))
    assert outcome(request) == "RngDeviceNotExist"


@pytest.mark.parametrize("request_", [
    Request(operation="resize", old_flavor=Flavor(extra_specs={"hw:watchdog_action": "explode"}),
            flavor=Flavor(name="m1.new")),
    Request(operation="rebuild", old_image=Image(properties={"hw_locked_memory": "yes"}),
            image=Image(name="new")),
], ids=["resize-from-invalid-flavor", "rebuild-from-uncreatable-image"])
def test_an_instance_nova_could_not_create_is_an_invalid_request(request_):
    """The state before a resize/rebuild must be creatable: RequestInvalid, not a rejection."""
    with pytest.raises(RequestInvalid, match="would have been refused at create"):
        resolve(request_)


@pytest.mark.parametrize("kwargs, message", [
    ({"operation": "resize"}, "old_flavor is required"),
    ({"operation": "rebuild"}, "old_image is required"),
    ({"operation": "reboot", "old_image": Image()}, "old_image is only for rebuild"),
    ({"operation": "resize", "old_flavor": Flavor()}, "CannotResizeToSameFlavor"),
    ({"operation": "migrate"}, "unknown operation"),
])
def test_contract_refuses_inconsistent_lifecycle_requests(kwargs, message):
    with pytest.raises(RequestInvalid, match=message):
        Request(**kwargs)
