"""Reference semantics of the protocol-3 operations (docs/reference-semantics.md, "Protocol 3
operations"; conformance/reference/operations.py)."""

from dataclasses import replace

import pytest

from conformance.catalogue import CASES
from conformance.contract import Flavor, HostSettings, Image, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference import ReferenceDriver, resolve

GONE = "/dev/cfm-no-such-rng"  # a host RNG device that does not exist
SOURCE = "<domain type='qemu'><name>instance-00000001</name></domain>"
PINNED = Flavor(vcpus=2, extra_specs={"hw:cpu_policy": "dedicated"})


def outcome(request):
    try:
        return ReferenceDriver().build(request)
    except Rejected as exc:
        return exc.rejection.code


def migration(operation, *, source=HostSettings(), **keys):
    return Request(operation=operation, source_host=source, source_domain=SOURCE, **keys)


@pytest.mark.parametrize("operation", ["suspend_resume", "pause_unpause", "soft_reboot",
                                       "clean_stop_start", "shelve_unshelve", "evacuate"])
def test_on_the_same_host_every_operation_reproduces_create(operation):
    """With the host unchanged since the create, each operation yields create's XML or
    rejection, for every create-time case (a lost RNG device: the tests below)."""
    for case in CASES:
        request = case.request()
        if request.host.rng_dev_path != HostSettings().rng_dev_path:
            continue
        assert outcome(replace(request, operation=operation)) == outcome(request), case.slug


@pytest.mark.parametrize("operation", ["live_migrate", "cold_migrate"])
def test_a_migration_between_equal_hosts_reproduces_create(operation):
    """Between two hosts with the same settings, a migration of any instance the host can
    run yields create's XML."""
    for case in CASES:
        request = case.request()
        created = outcome(request)
        if created.startswith("<"):
            moved = replace(request, operation=operation, source_host=request.host, source_domain=SOURCE)
            assert outcome(moved) == created, case.slug


@pytest.mark.parametrize("operation", ["suspend_resume", "pause_unpause", "soft_reboot"])
def test_the_existing_domain_survives_a_lost_rng_device(operation):
    """Resume, unpause and a soft reboot do not regenerate the domain: a host RNG device lost
    since the create refuses nothing, the domain keeps its backend."""
    request = Request(operation=operation, host=HostSettings(rng_dev_path=GONE))
    assert resolve(request).rng.backend_path == HostSettings().rng_dev_path


@pytest.mark.parametrize("operation", ["clean_stop_start", "shelve_unshelve", "evacuate", "cold_migrate"])
def test_a_regenerated_domain_checks_the_rng_device_again(operation):
    """Power on, unshelve, evacuate and cold migration build the domain on the host now
    (``_get_guest_xml``): the RNG path check runs there."""
    keys = {"source_host": HostSettings(), "source_domain": SOURCE} if operation == "cold_migrate" else {}
    assert outcome(Request(operation=operation, host=HostSettings(rng_dev_path=GONE), **keys)) \
        == "RngDeviceNotExist"


def test_live_migration_keeps_the_source_rng_backend():
    """The migratable XML is copied: the destination's own rng_dev_path is not consulted."""
    request = migration("live_migrate", host=HostSettings(rng_dev_path=GONE))
    assert resolve(request).rng.backend_path == HostSettings().rng_dev_path


def test_live_migration_repins_on_the_destination():
    """``_update_numa_xml``: a pinned instance gets the destination's CPUs."""
    request = migration("live_migrate", flavor=PINNED, source=HostSettings(cpu_dedicated_set="0-1"),
                        host=HostSettings(cpu_dedicated_set="2-3"))
    assert resolve(request).pinning == (2, 3)


@pytest.mark.parametrize("operation", ["live_migrate", "cold_migrate"])
def test_a_destination_without_room_is_no_valid_host(operation):
    request = migration(operation, flavor=PINNED, source=HostSettings(cpu_dedicated_set="0-1"))
    assert outcome(request) == "NoValidHost"
    sev = Image(properties={"hw_mem_encryption": "true", "hw_firmware_type": "uefi",
                            "hw_machine_type": "q35"})
    encrypted = migration(operation, image=sev, source=HostSettings(mem_encryption_models=("amd-sev",)))
    assert outcome(replace(encrypted, source_host=encrypted.source_host)) == "NoValidHost"


@pytest.mark.parametrize("operation", ["live_migrate", "cold_migrate"])
def test_a_migration_keeps_the_source_machine_type(operation):
    """The live migration copies the source's XML; a cold migration regenerates it with the
    machine type recorded at the create (``image_hw_machine_type``)."""
    request = migration(operation, source=HostSettings(hw_machine_type="q35"))
    assert resolve(request).machine_type == "q35"


@pytest.mark.parametrize("operation", ["live_migrate", "cold_migrate"])
def test_an_instance_the_source_could_not_run_is_an_invalid_request(operation):
    with pytest.raises(RequestInvalid, match="source host"):
        resolve(migration(operation, source=HostSettings(rng_dev_path=GONE)))
