"""Run upstream Nova's own code on one request (imported only inside the nova worker).

Importing this module imports Nova, which monkey-patches the standard library (eventlet) and
configures global oslo.config state; that is why it runs only in the worker process
(``conformance.drivers.nova_worker``), never in the harness.

Order of checks, as in Nova's server create path (``nova/compute/api.py``):
1. flavor extra specs: ``nova.api.validation.extra_specs.validators.validate`` (microversion
   >= 2.86, ``flavors_extraspecs.py``)                               -> InvalidExtraSpec
2. image properties: ``compute.api._get_image_meta_obj``            -> InvalidImageProperty
3. ``hardware.numa_get_constraints`` (``_validate_and_build_base_options``)
4. ``API._validate_flavor_image_nostatus(validate_numa=False)`` (``_checks_for_create_and_rebuild``)
5. ``LibvirtDriver._get_guest_xml`` under Nova's ``LibvirtFixture`` (fake libvirt connection).
"""

from __future__ import annotations

import fixtures
from oslo_utils.fixture import uuidsentinel

import nova.conf
from nova import context as nova_context
from nova import exception, objects
from nova.api.validation.extra_specs import validators
from nova.compute import api as compute_api
from nova.tests import fixtures as nova_fixtures
from nova.virt import fake as fake_virt
from nova.virt import hardware
from nova.virt.libvirt import blockinfo
from nova.virt.libvirt import driver as libvirt_driver

CONF = nova.conf.CONF


def nova_version() -> str:
    from importlib.metadata import version
    return version("nova")

# Nova exception class -> contract rejection code (same names by design).
REJECTIONS = {
    exception.InvalidWatchdogAction: "InvalidWatchdogAction",
    exception.FlavorImageConflict: "FlavorImageConflict",
    exception.FlavorImageLockedMemoryConflict: "FlavorImageLockedMemoryConflict",
    exception.LockMemoryForbidden: "LockMemoryForbidden",
    exception.RngDeviceNotExist: "RngDeviceNotExist",
    exception.MemoryPageSizeForbidden: "MemoryPageSizeForbidden",
    exception.MemoryPageSizeInvalid: "MemoryPageSizeInvalid",
}


class Rejection(Exception):
    """A Nova refusal mapped to a contract rejection code."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class NovaEnvironment:
    """Nova's unit-test stubbing (fake libvirt, no database), set up once per worker."""

    def __init__(self, instances_path: str):
        objects.register_all()
        self._fixtures = fixtures.Fixture()
        self._fixtures.setUp()
        use = self._fixtures.useFixture
        use(nova_fixtures.ConfFixture(CONF))
        CONF.set_override("instances_path", instances_path)
        CONF.set_override("sysinfo_serial", "hardware", group="libvirt")
        # Nova's own naming mechanism: the template may name Instance fields.
        CONF.set_override("instance_name_template", "%(display_name)s")
        use(nova_fixtures.LibvirtFixture())
        use(nova_fixtures.CGroupsFixture())
        use(fixtures.MockPatch("nova.objects.InstanceList.get_by_host",
                               return_value=objects.InstanceList(objects=[])))
        self.context = nova_context.get_admin_context()
        self._drivers: dict[str, libvirt_driver.LibvirtDriver] = {}

    def close(self) -> None:
        self._fixtures.cleanUp()

    def driver(self, virt_type: str) -> libvirt_driver.LibvirtDriver:
        """One LibvirtDriver per virt type (its host caps are read once)."""
        CONF.set_override("virt_type", virt_type, group="libvirt")
        if virt_type not in self._drivers:
            self._drivers[virt_type] = libvirt_driver.LibvirtDriver(
                fake_virt.FakeVirtAPI(), True)
        return self._drivers[virt_type]


def _flavor(data: dict) -> objects.Flavor:
    return objects.Flavor(
        id=1, flavorid="1", name=data["name"], memory_mb=data["memory_mb"],
        vcpus=data["vcpus"], root_gb=1, ephemeral_gb=0, swap=0, vcpu_weight=None,
        rxtx_factor=1.0, extra_specs=dict(data["extra_specs"]))


def _image_dict(data: dict) -> dict:
    return {"id": uuidsentinel.image, "name": data["name"], "disk_format": "raw",
            "container_format": "bare", "min_ram": 0, "min_disk": 0, "size": 0,
            "status": "active", "properties": dict(data["properties"])}


def api_checks(env: NovaEnvironment, flavor: objects.Flavor, image: dict,
               validate_extra_specs: bool = True):
    """Nova's API-side validation of a new server; returns the ImageMeta object."""
    for key, value in flavor.extra_specs.items() if validate_extra_specs else ():
        try:
            validators.validate(key, value)
        except exception.ValidationError as exc:
            raise Rejection("InvalidExtraSpec", exc.format_message()) from None
    try:
        image_meta = compute_api._get_image_meta_obj(image)
    except exception.InvalidRequest as exc:
        raise Rejection("InvalidImageProperty", exc.format_message()) from None
    hardware.numa_get_constraints(flavor, image_meta)
    compute_api.API._validate_flavor_image_nostatus(
        env.context, image, flavor, None, validate_numa=False)
    return image_meta


def guest_xml(env: NovaEnvironment, request: dict, flavor: objects.Flavor,
              image: dict) -> str:
    """``LibvirtDriver._get_guest_xml`` for the request, as the compute service calls it."""
    drvr = env.driver(request["virt_type"])
    CONF.set_override("rng_dev_path", request["host"]["rng_dev_path"], group="libvirt")
    image_meta = objects.ImageMeta.from_dict(image)
    instance = objects.Instance(
        id=1, uuid=request["instance_uuid"], display_name=request["instance_name"],
        project_id="conformance", user_id="conformance", image_ref=image["id"],
        root_gb=flavor.root_gb, ephemeral_gb=0, memory_mb=flavor.memory_mb,
        vcpus=flavor.vcpus, flavor=flavor, old_flavor=None, new_flavor=None,
        instance_type_id=flavor.id, system_metadata={}, pci_devices=objects.PciDeviceList(),
        numa_topology=None, config_drive=None, vm_mode=None, vm_state=None,
        kernel_id=None, ramdisk_id=None,
        # compute/api.py _inherit_properties_from_image: the instance keeps the image's os_type
        os_type=image["properties"].get("os_type"), ephemeral_key_uuid=None,
        vcpu_model=None, host="conformance-host", node="conformance-node",
        task_state=None, trusted_certs=None, resources=None, migration_context=None,
        info_cache=None, cleaned=False, metadata={})
    disk_info = blockinfo.get_disk_info(CONF.libvirt.virt_type, instance, image_meta)
    return drvr._get_guest_xml(env.context, instance, [], disk_info, image_meta)


def build(env: NovaEnvironment, request: dict, api_validation: bool = True) -> str:
    """Nova's domain XML for ``request`` (JSON form); raises Rejection for named refusals.

    ``api_validation=False`` skips the extra-spec validators only: flavors whose extra specs
    were stored before API microversion 2.86 reach the driver unvalidated.
    """
    flavor = _flavor(request["flavor"])
    image = _image_dict(request["image"])
    try:
        api_checks(env, flavor, image, validate_extra_specs=api_validation)
        return guest_xml(env, request, flavor, image)
    except tuple(REJECTIONS) as exc:
        raise Rejection(REJECTIONS[type(exc)], exc.format_message()) from None
