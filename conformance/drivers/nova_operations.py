"""Run upstream Nova's own code on a request of a protocol-3 operation (imported only inside
the nova worker, next to ``nova_build``, whose helpers it is handed: ``build(env, request,
api_validation, base)``). What Nova 34 does per operation (``nova/virt/libvirt/driver.py``,
``nova/compute/manager.py``; docs/reference-semantics.md, "Protocol 3 operations"):

- ``suspend_resume``, ``pause_unpause``, ``soft_reboot``: the domain Nova wrote at the create
  stays (``resume`` -> ``_get_existing_domain_xml``; ``pause``/``unpause`` and a clean
  ``_soft_reboot`` never redefine it): ``_get_guest_xml`` of the create, on the host as it
  was then (its default RNG device; a host that lost it since does not change the domain).
- ``clean_stop_start``: ``power_off`` (``_clean_shutdown``), then ``power_on`` ->
  ``_hard_reboot``: regenerated as for ``stop_start``.
- ``shelve_unshelve``, ``evacuate``: ``spawn`` on ``host`` (unshelve after the conductor
  scheduled it; ``rebuild_instance`` with the same image on another host), as a hard reboot
  regenerates it there.
- ``cold_migrate``: the create on ``source_host`` records the machine type it used in the
  instance's system metadata (``_get_guest_config``: ``image_hw_machine_type``); then
  ``finish_migration`` -> ``_get_guest_xml`` on the destination with
  ``ImageMeta.from_instance``, so the instance keeps that machine type.
- ``live_migrate``: the destination is checked as the scheduler and the claim do
  (``NoValidHost``; a pinned instance fitted to the destination's CPUs), its migrate data
  built as ``check_can_live_migrate_destination`` (``dst_cpu_shared_set_info``) and
  ``post_claim_migrate_data`` (``_get_live_migrate_numa_info``) do, and the running
  domain rewritten by ``migration.get_updated_guest_xml``. The running domain is the one
  Nova itself writes at the create on ``source_host`` (the request's ``source_domain`` is
  the harness's copy of a driver's create answer there; another driver's, e.g. the
  reference's without ``<numatune>``, is not a domain Nova would be migrating).
- ``cold_migrate`` and ``live_migrate`` schedule the destination (``select_destinations``:
  ``NoValidHost`` where it lacks what the instance needs).
"""

from __future__ import annotations

import nova.conf
from nova import objects
from nova.virt import hardware
from nova.virt.libvirt import migration

EXISTING = ("suspend_resume", "pause_unpause", "soft_reboot")
OPERATIONS = EXISTING + ("clean_stop_start", "shelve_unshelve", "evacuate", "cold_migrate",
                         "live_migrate")
DEFAULT_RNG_DEV_PATH = "/dev/urandom"  # conformance.contract.HostSettings' default
CONF = nova.conf.CONF


def _as(request: dict, operation: str, host: dict) -> dict:
    plain = {k: v for k, v in request.items() if k not in ("source_host", "source_domain")}
    return {**plain, "operation": operation, "host": host}


class _RunningGuest:
    """What ``get_updated_guest_xml`` reads of the source's libvirt guest: its XML."""

    def __init__(self, xml: str):
        self.xml = xml

    def get_xml_desc(self, dump_migratable: bool = False, **_) -> str:
        return self.xml


def _cold_migrated(env, request: dict, base) -> str:
    flavor = base._flavor(request["flavor"])
    image = base._image_dict(request["image"])
    source = _as(request, "create", request["source_host"])
    instance = base.make_instance(source, flavor, image)
    instance.numa_topology = base.fit(env, source, flavor, objects.ImageMeta.from_dict(image))
    base.guest_xml(env, source, instance, image)  # the create: records the machine type
    image_meta = objects.ImageMeta.from_instance(instance)
    destination = _as(request, "reboot", request["host"])
    # the conductor's select_destinations, then the claim on the destination
    instance.numa_topology = base.schedule(env, destination, flavor, image_meta)
    return base.guest_xml(env, destination, instance, image, image_meta=image_meta)


def _live_migrated(env, request: dict, base, api_validation: bool) -> str:
    flavor = base._flavor(request["flavor"])
    image = base._image_dict(request["image"])
    image_meta = objects.ImageMeta.from_dict(image)
    destination = _as(request, "create", request["host"])
    instance = base.make_instance(destination, flavor, image)
    fitted = base.schedule(env, destination, flavor, image_meta)  # NoValidHost
    drvr = env.driver(request["virt_type"], request["host"])
    data = objects.LibvirtLiveMigrateData(  # check_can_live_migrate_destination's, serial off
        graphics_listen_addr_vnc=CONF.vnc.server_listen,
        graphics_listen_addr_spice=CONF.spice.server_listen, serial_listen_addr=None,
        serial_listen_ports=[], dst_wants_file_backed_memory=False, bdms=[])
    if "dst_cpu_shared_set_info" in data.fields:  # since the fix of bug 1869804
        data.dst_cpu_shared_set_info = (hardware.get_cpu_shared_set()
                                        or hardware.get_vcpu_pin_set() or set())
    if fitted is not None:  # the claim's topology on the destination
        instance.numa_topology = fitted
        data.dst_numa_info = drvr._get_live_migrate_numa_info(fitted, flavor, image_meta)
    running = base.build(env, _as(request, "create", request["source_host"]), api_validation)
    return migration.get_updated_guest_xml(instance, _RunningGuest(running), data,
                                           get_volume_config=lambda *a, **k: None)


def build(env, request: dict, api_validation: bool, base) -> str:
    """Nova's domain XML after protocol-3 ``request`` (JSON form); raises
    ``base.Rejection`` for named refusals."""
    operation = request["operation"]
    if operation in EXISTING:
        host = {**request["host"], "rng_dev_path": DEFAULT_RNG_DEV_PATH}
        return base.build(env, _as(request, "create", host), api_validation)
    if operation == "clean_stop_start":
        return base.build(env, _as(request, "stop_start", request["host"]), api_validation)
    if operation in ("shelve_unshelve", "evacuate"):
        return base.build(env, _as(request, "reboot", request["host"]), api_validation)
    try:
        if operation == "cold_migrate":
            return _cold_migrated(env, request, base)
        if operation == "live_migrate":
            return _live_migrated(env, request, base, api_validation)
    except tuple(base.REJECTIONS) as exc:
        raise base.Rejection(base.REJECTIONS[type(exc)], exc.format_message()) from None
    raise ValueError(f"unknown operation {operation!r}")
