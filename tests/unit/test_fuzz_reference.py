"""Fuzz: the reference driver on random flavors/images (arbitrary strings with control
characters, huge numbers) returns safe domain XML or refuses by name."""

import dataclasses

from hypothesis import given, settings, strategies as st

from conformance.contract import Flavor, HostSettings, Image, Rejected, Request
from conformance.drivers.output import parse_domain
from conformance.errors import HarnessError
from conformance.reference import ReferenceDriver

FUZZ = settings(max_examples=250, deadline=None)
SPEC_KEYS = ["hw:hide_hypervisor_id", "hw:locked_memory", "hw:mem_page_size", "hw:pmu",
             "hw:watchdog_action", "hw_rng:allowed", "hw_rng:rate_bytes", "hw_rng:rate_period",
             "hide_hypervisor_id", "hw:cpu_policy"]
PROP_KEYS = ["hw_locked_memory", "hw_mem_page_size", "hw_pmu", "hw_qemu_guest_agent",
             "hw_watchdog_action", "hw_time_hpet", "img_hide_hypervisor_id", "os_type",
             "hw_numa_cpus", "hw_numa_mem"]
HUGE = st.integers(min_value=-(10 ** 40), max_value=10 ** 40).map(str)
VALUES = (st.text(max_size=40) | HUGE
          | st.sampled_from(["yes", "no", "true", "False", "reset", "pause", "none", "2048",
                             "large", "small", "any", "1\x00", "\x1b[31m", " on ", "0x10"]))


def specs(keys):
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=20), VALUES, max_size=5)


@FUZZ
@given(specs(SPEC_KEYS), specs(PROP_KEYS), st.sampled_from(["kvm", "qemu"]),
       st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
       st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
       st.text(max_size=30), st.text(max_size=30))
def test_reference_on_random_flavor_and_image(extra_specs, properties, virt_type, vcpus,
                                              memory_mb, name, rng_path):
    """XML that parses as a <domain> under the untrusted-output rules, or Rejected, or a
    named HarnessError (e.g. RequestInvalid for characters XML cannot carry)."""
    request = Request(virt_type=virt_type, instance_name=name or "instance-1",
                      flavor=Flavor(vcpus=vcpus, memory_mb=memory_mb, extra_specs=extra_specs),
                      image=Image(properties=properties),
                      host=HostSettings(rng_dev_path=rng_path or "/dev/urandom"))
    try:
        xml = ReferenceDriver().build(request)
    except (Rejected, HarnessError):
        return
    assert parse_domain(xml).tag == "domain"


@FUZZ
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=60))
def test_reference_on_random_boot_parameters(kernel, initrd, cmdline):
    """Boot paths and command lines with any characters: XML or a named error."""
    request = dataclasses.replace(Request(), boot=dataclasses.replace(
        Request().boot, kernel=kernel, initrd=initrd, cmdline=cmdline))
    try:
        xml = ReferenceDriver().build(request)
    except (Rejected, HarnessError):
        return
    assert parse_domain(xml).tag == "domain"
