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
5. the scheduler on the request's host alone (``schedule``): Nova's ``ResourceRequest`` against
   what the host settings offer (PCPU, VCPU, memory encryption), then the pinned instance's
   NUMA topology fitted to the host (``numa_fit_instance_to_host``)         -> NoValidHost
6. ``LibvirtDriver._get_guest_xml`` under Nova's ``LibvirtFixture`` (fake libvirt connection,
   two host CPUs), configured like the request's host: ``[libvirt] hw_machine_type``,
   ``[compute] cpu_dedicated_set``, the kernel's SEV models (``Host._kernel_supports_amd_sev``).

Lifecycle operations (protocol 2) run what Nova runs for them instead (protocol 3:
``nova_operations``, which the worker loads beside this module):
- reboot, stop_start: no API checks, no scheduler (the instance exists, with the NUMA topology
  its create fitted); ``_hard_reboot`` regenerates the XML with ``_get_guest_xml`` from the
  instance's flavor and ``instance.image_meta``.
- resize: the new flavor's extra specs (validated when the flavor was written), then
  ``API.resize``'s ``_validate_flavor_image_nostatus(image, new_flavor, validate_pci=True)``
  (PMU before ``numa_get_constraints``), the scheduler for the new flavor; then, as
  ``_finish_resize`` does,
  ``instance.flavor`` = new flavor (``old_flavor``/``new_flavor`` set) and ``_get_guest_xml``
  with the instance's (old) image.
- rebuild: ``API.rebuild``'s flavor/image validation (``_validate_flavor_image_nostatus`` with
  the new image, as ``_checks_for_create_and_rebuild`` calls it) and, when the image changes,
  ``API._validate_numa_rebuild`` against ``instance.image_meta`` (the old image, from system
  metadata); then ``_get_guest_xml`` with the new image meta, as ``rebuild_instance`` -> ``spawn``.
"""

from __future__ import annotations

import fixtures
from oslo_utils.fixture import uuidsentinel

import nova.conf
from nova import context as nova_context
from nova import exception, objects
from nova.api.validation.extra_specs import validators
from nova import utils as nova_utils
from nova.compute import api as compute_api
from nova.scheduler import utils as scheduler_utils
from nova.tests import fixtures as nova_fixtures
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt import fake as fake_virt
from nova.virt import hardware
from nova.virt.libvirt import blockinfo
from nova.virt.libvirt import driver as libvirt_driver

CONF = nova.conf.CONF


def nova_version() -> str:
    from importlib.metadata import version
    return version("nova")

# Nova exception class -> contract rejection code (same names by design); a class a release
# does not have (StatelessFirmwareRequired before 2024.1) is left out.
REJECTIONS = {getattr(exception, name): name for name in (
    "InvalidWatchdogAction", "FlavorImageConflict", "FlavorImageLockedMemoryConflict",
    "LockMemoryForbidden", "RngDeviceNotExist", "MemoryPageSizeForbidden",
    "MemoryPageSizeInvalid", "ImageNUMATopologyRebuildConflict",
    "RealtimeConfigurationInvalid", "RealtimeMaskNotFoundOrInvalid", "ImageCPUPinningForbidden",
    "RequiredMixedOrRealtimeCPUMask",
    "InvalidMachineType", "StatelessFirmwareRequired", "NoValidHost",
) if hasattr(exception, name)}
# host.mem_encryption_models -> the trait Nova reports for it (placement, on one host)
MODEL_TRAITS = {"amd-sev": "HW_CPU_X86_AMD_SEV", "amd-sev-es": "HW_CPU_X86_AMD_SEV_ES",
                "amd-sev-snp": "HW_CPU_X86_AMD_SEV_SNP"}
NO_VALID_HOST = "There are not enough hosts available."
VCPU_RATIO = 16  # [DEFAULT] initial_cpu_allocation_ratio
HOST_CPUS = 4  # of the fake libvirt host


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
        # A host of four CPUs (0-3; Nova's fake has two by default), so that a destination's
        # dedicated CPUs may differ from the source's (a live migration re-pins the guest).
        use(fixtures.MockPatchObject(fakelibvirt.HostInfo.__init__, "__defaults__",
                                     (1, 1, HOST_CPUS, 1, 16780000, None)))
        use(nova_fixtures.LibvirtFixture())
        use(nova_fixtures.CGroupsFixture())
        use(fixtures.MockPatch("nova.objects.InstanceList.get_by_host",
                               return_value=objects.InstanceList(objects=[])))
        # The host's memory encryption: libvirt's domain capabilities say SEV (and SEV-SNP
        # where this release's fake libvirt knows it); the kernel's kvm_amd parameters, which
        # Nova reads from /sys, say which models the request's host offers.
        self.models: tuple[str, ...] = ()
        use(fixtures.MockPatchObject(fakelibvirt.Connection, "_domain_capability_features", getattr(
            fakelibvirt.Connection, "_domain_capability_features_with_launch_security_SEV_SNP",
            fakelibvirt.Connection._domain_capability_features_with_SEV)))
        use(fixtures.MockPatch("nova.virt.libvirt.host.Host._kernel_supports_amd_sev",
                               side_effect=lambda model="sev": f"amd-{model}" in self.models))
        self.context = nova_context.get_admin_context()
        self._drivers: dict[tuple, libvirt_driver.LibvirtDriver] = {}

    def close(self) -> None:
        self._fixtures.cleanUp()

    def driver(self, virt_type: str, host: dict) -> libvirt_driver.LibvirtDriver:
        """One LibvirtDriver per virt type and host settings (Nova reads the host's caps,
        CPUs and memory encryption once per driver), configured as that host is."""
        CONF.set_override("virt_type", virt_type, group="libvirt")
        machine = host.get("hw_machine_type")
        CONF.set_override("hw_machine_type", [f"x86_64={machine}"] if machine else None,
                          group="libvirt")
        CONF.set_override("cpu_dedicated_set", host.get("cpu_dedicated_set") or None,
                          group="compute")
        self.models = tuple(host.get("mem_encryption_models", ()))
        key = (virt_type, machine, host.get("cpu_dedicated_set"), self.models)
        if key not in self._drivers:
            self._drivers[key] = libvirt_driver.LibvirtDriver(fake_virt.FakeVirtAPI(), True)
        return self._drivers[key]


def _flavor(data: dict, flavor_id: int = 1) -> objects.Flavor:
    return objects.Flavor(
        id=flavor_id, flavorid=str(flavor_id), name=data["name"], memory_mb=data["memory_mb"],
        vcpus=data["vcpus"], root_gb=1, ephemeral_gb=0, swap=0, vcpu_weight=None,
        rxtx_factor=1.0, extra_specs=dict(data["extra_specs"]))


def _image_dict(data: dict, image_id: str = uuidsentinel.image) -> dict:
    return {"id": image_id, "name": data["name"], "disk_format": "raw",
            "container_format": "bare", "min_ram": 0, "min_disk": 0, "size": 0,
            "status": "active", "properties": dict(data["properties"])}


def _validate_extra_specs(flavor: objects.Flavor, validate: bool) -> None:
    for key, value in flavor.extra_specs.items() if validate else ():
        try:
            validators.validate(key, value)
        except exception.ValidationError as exc:
            raise Rejection("InvalidExtraSpec", exc.format_message()) from None


def _image_meta(image: dict):
    try:
        return compute_api._get_image_meta_obj(image)
    except exception.InvalidRequest as exc:
        raise Rejection("InvalidImageProperty", exc.format_message()) from None


def api_checks(env: NovaEnvironment, flavor: objects.Flavor, image: dict,
               validate_extra_specs: bool = True):
    """Nova's API-side validation of a new server; returns the ImageMeta object."""
    _validate_extra_specs(flavor, validate_extra_specs)
    image_meta = _image_meta(image)
    hardware.numa_get_constraints(flavor, image_meta)
    compute_api.API._validate_flavor_image_nostatus(
        env.context, image, flavor, None, validate_numa=False)
    return image_meta


def resize_checks(env: NovaEnvironment, new_flavor: objects.Flavor, image: dict,
                  validate_extra_specs: bool = True) -> None:
    """``API.resize`` for an image-backed server: the new flavor against the instance's image."""
    _validate_extra_specs(new_flavor, validate_extra_specs)
    _image_meta(image)  # the API wraps a bad property the same way inside the next call
    compute_api.API._validate_flavor_image_nostatus(
        env.context, image, new_flavor, root_bdm=None, validate_pci=True)


def rebuild_checks(env: NovaEnvironment, instance, flavor: objects.Flavor, image: dict,
                   old_image: dict, validate_extra_specs: bool = True) -> None:
    """``API.rebuild``: the new image against the flavor, then the NUMA rebuild rule."""
    _validate_extra_specs(flavor, validate_extra_specs)
    _image_meta(image)
    compute_api.API._validate_flavor_image_nostatus(env.context, image, flavor, None)
    if old_image["id"] != image["id"]:
        compute_api.API._validate_numa_rebuild(instance, image, flavor)


def _host_offers(drvr, host: dict) -> tuple[dict, set]:
    """What the request's host reports to placement: its inventory (VCPU unless all its CPUs
    are dedicated, PCPU from cpu_dedicated_set, MEM_ENCRYPTION_CONTEXT) and traits (its
    memory encryption models; stateless UEFI firmware, which libvirt >= 8.6 offers, always)."""
    dedicated = hardware.get_cpu_dedicated_set() or set()
    models = tuple(host.get("mem_encryption_models", ()))
    inventory = {"PCPU": len(dedicated), "VCPU": 0 if dedicated else HOST_CPUS * VCPU_RATIO,
                 "MEM_ENCRYPTION_CONTEXT": 15 if models else 0}
    return inventory, {MODEL_TRAITS[m] for m in models} | {"COMPUTE_SECURITY_STATELESS_FIRMWARE"}


def schedule(env: NovaEnvironment, request: dict, flavor: objects.Flavor, image_meta):
    """The scheduler on the request's host alone: the resources and traits Nova's
    ``ResourceRequest`` asks for against what the host offers, then the instance NUMA
    topology fitted to the host's (as the claim does). NoValidHost when it does not fit."""
    drvr = env.driver(request["virt_type"], request["host"])
    spec = objects.RequestSpec(flavor=flavor, image=image_meta, is_bfv=False,
                               requested_resources=[])
    wanted = scheduler_utils.ResourceRequest.from_request_spec(spec)
    inventory, traits = _host_offers(drvr, request["host"])
    short = [rc for rc, amount in wanted.merged_resources().items()
             if rc in inventory and amount > inventory[rc]]
    missing = wanted.all_required_traits - traits
    if short or missing:
        raise exception.NoValidHost(reason=NO_VALID_HOST)
    return fit(env, request, flavor, image_meta)


def fit(env: NovaEnvironment, request: dict, flavor: objects.Flavor, image_meta):
    """The instance NUMA topology of a pinned instance, fitted to the host's NUMA cells
    (``numa_fit_instance_to_host``, as the claim does); None for any other instance (page
    sizes alone are not fitted: no ``<hugepages>``, docs/nova-driver.md)."""
    wanted = hardware.numa_get_constraints(flavor, image_meta)
    if wanted is None or wanted.cells[0].cpu_policy not in ("dedicated", "mixed"):
        return None
    drvr = env.driver(request["virt_type"], request["host"])
    fitted = hardware.numa_fit_instance_to_host(drvr._get_host_numa_topology(), wanted, None)
    if fitted is None:
        raise exception.NoValidHost(reason=NO_VALID_HOST)
    return fitted


def make_instance(request: dict, flavor: objects.Flavor, image: dict):
    """The instance as the compute service holds it (system metadata from ``image``)."""
    return objects.Instance(
        id=1, uuid=request["instance_uuid"], display_name=request["instance_name"],
        project_id="conformance", user_id="conformance", image_ref=image["id"],
        root_gb=flavor.root_gb, ephemeral_gb=0, memory_mb=flavor.memory_mb,
        vcpus=flavor.vcpus, flavor=flavor, old_flavor=None, new_flavor=None,
        instance_type_id=flavor.id, pci_devices=objects.PciDeviceList(),
        numa_topology=None, config_drive=None, vm_mode=None, vm_state=None,
        kernel_id=None, ramdisk_id=None,
        # compute/api.py _inherit_properties_from_image: the instance keeps the image's os_type
        os_type=image["properties"].get("os_type"), ephemeral_key_uuid=None,
        vcpu_model=None, host="conformance-host", node="conformance-node",
        task_state=None, trusted_certs=None, resources=None, migration_context=None,
        info_cache=None, cleaned=False, metadata={},
        # compute/api.py _populate_instance_for_create stores the image in system metadata
        # (instance.image_meta reads it back; rebuild's NUMA check uses it)
        system_metadata=nova_utils.get_system_metadata_from_image(image, flavor))


def guest_xml(env: NovaEnvironment, request: dict, instance, image: dict, image_meta=None) -> str:
    """``LibvirtDriver._get_guest_xml`` for the instance and image meta (default: ``image``'s),
    as the compute service calls it."""
    drvr = env.driver(request["virt_type"], request["host"])
    CONF.set_override("rng_dev_path", request["host"]["rng_dev_path"], group="libvirt")
    image_meta = image_meta or objects.ImageMeta.from_dict(image)
    disk_info = blockinfo.get_disk_info(CONF.libvirt.virt_type, instance, image_meta)
    return drvr._get_guest_xml(env.context, instance, [], disk_info, image_meta)


def _switch_flavor(instance, new_flavor: objects.Flavor) -> None:
    """``ComputeManager._finish_resize`` -> ``_set_instance_info``: the new flavor becomes
    ``instance.flavor`` (with ``old_flavor``/``new_flavor`` kept on the instance)."""
    instance.old_flavor, instance.new_flavor = instance.flavor, new_flavor
    instance.flavor = new_flavor
    instance.instance_type_id = new_flavor.id
    instance.memory_mb, instance.vcpus, instance.root_gb = (
        new_flavor.memory_mb, new_flavor.vcpus, new_flavor.root_gb)


def _switch_image(instance, image: dict, flavor: objects.Flavor) -> None:
    """``API.rebuild`` after its checks: the instance inherits the new image's properties
    (``_inherit_properties_from_image``: os_type) and its system metadata is reset to the new
    image (``_reset_image_metadata``)."""
    instance.os_type = image["properties"].get("os_type")
    instance.image_ref = image["id"]
    instance.system_metadata = nova_utils.get_system_metadata_from_image(image, flavor)


def build(env: NovaEnvironment, request: dict, api_validation: bool = True) -> str:
    """Nova's domain XML for ``request`` (JSON form); raises Rejection for named refusals.

    ``api_validation=False`` skips the extra-spec validators only: flavors whose extra specs
    were stored before API microversion 2.86 reach the driver unvalidated.
    """
    operation = request.get("operation", "create")
    flavor = _flavor(request["flavor"])
    image = _image_dict(request["image"])
    try:
        if operation == "create":
            image_meta = api_checks(env, flavor, image, validate_extra_specs=api_validation)
            instance = make_instance(request, flavor, image)
            instance.numa_topology = schedule(env, request, flavor, image_meta)
        elif operation in ("reboot", "stop_start"):
            instance = make_instance(request, flavor, image)  # _hard_reboot: no API checks
            instance.numa_topology = fit(env, request, flavor, objects.ImageMeta.from_dict(image))
        elif operation == "resize":
            old_flavor, new_flavor = _flavor(request["old_flavor"]), _flavor(request["flavor"], 2)
            resize_checks(env, new_flavor, image, validate_extra_specs=api_validation)
            instance = make_instance(request, old_flavor, image)
            topology = schedule(env, request, new_flavor, objects.ImageMeta.from_dict(image))
            _switch_flavor(instance, new_flavor)
            instance.numa_topology = topology
        elif operation == "rebuild":
            old_image = _image_dict(request["old_image"], uuidsentinel.old_image)
            if request["old_image"] == request["image"]:
                old_image = image  # rebuild to the same image: no NUMA rebuild check
            else:
                image = _image_dict(request["image"], uuidsentinel.new_image)
            instance = make_instance(request, flavor, old_image)
            rebuild_checks(env, instance, flavor, image, old_image,
                           validate_extra_specs=api_validation)
            _switch_image(instance, image, flavor)
            # no claim: the instance keeps its topology, equal to the new image's (checked)
            instance.numa_topology = fit(env, request, flavor, objects.ImageMeta.from_dict(image))
        else:
            raise ValueError(f"unknown operation {operation!r}")
        return guest_xml(env, request, instance, image)
    except tuple(REJECTIONS) as exc:
        raise Rejection(REJECTIONS[type(exc)], exc.format_message()) from None
