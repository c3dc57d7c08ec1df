"""Reference driver: the base domain, element order, virt types, libvirt schema validity."""
import os

import pytest
from lxml import etree

from conformance.contract import Boot, Flavor, Image, Request
from conformance.reference import ReferenceDriver, resolve

SCHEMA = "/usr/share/libvirt/schemas/domain.rng"

ALL_ON_SPECS = {
    "hw:watchdog_action": "reset", "hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "1000",
    "hw:pmu": "true", "hw:hide_hypervisor_id": "true", "hide_hypervisor_id": "true",
    "hw:locked_memory": "true", "hw:mem_page_size": "any",
}
ALL_ON_PROPS = {"hw_qemu_guest_agent": "yes", "hw_watchdog_action": "poweroff", "hw_pmu": "true",
                "img_hide_hypervisor_id": "yes", "hw_locked_memory": "true",
                "hw_mem_page_size": "4096", "hw_rng_model": "virtio"}


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


@pytest.fixture(scope="module")
def relaxng():
    if not os.path.exists(SCHEMA):
        pytest.skip(f"libvirt RelaxNG schema {SCHEMA} missing (package libvirt-daemon / libvirt-common)")
    return etree.RelaxNG(etree.parse(SCHEMA))


def build(req):
    return etree.fromstring(ReferenceDriver().build(req))


def test_name():
    """The driver calls itself 'reference'."""
    assert ReferenceDriver().name == "reference"


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
@pytest.mark.parametrize("props", [ALL_ON_PROPS, {**ALL_ON_PROPS, "os_type": "windows"}],
                         ids=["linux", "windows"])
def test_all_features_on_is_schema_valid(relaxng, virt_type, props):
    """With every feature on (both virt types, Linux and Windows) the XML passes libvirt's schema."""
    dom = build(request(ALL_ON_SPECS, props, virt_type=virt_type))
    assert relaxng.validate(dom), relaxng.error_log
    f = resolve(request(ALL_ON_SPECS, props, virt_type=virt_type))
    assert (f.agent, f.watchdog_action, f.pmu, f.hide_hypervisor, f.locked_memory) == (
        True, "poweroff", True, True, True)
    assert (f.rng.rate_bytes, f.rng.rate_period) == (1024, 1000)


def test_default_request_is_schema_valid(relaxng):
    """The default request (no extra specs, no properties) passes the schema."""
    assert relaxng.validate(build(request())), relaxng.error_log


def test_identity_memory_boot():
    """Name, uuid, memory in KiB, vcpus and direct kernel boot come from the request."""
    req = Request(instance_name="instance-42", instance_uuid="12345678-1234-4234-8234-123456789abc",
                  flavor=Flavor(vcpus=2, memory_mb=512),
                  boot=Boot(kernel="/k", initrd="/i", cmdline="console=ttyS0 a=<b>&c"))
    dom = build(req)
    assert dom.get("type") == "qemu"
    assert dom.findtext("name") == "instance-42"
    assert dom.findtext("uuid") == "12345678-1234-4234-8234-123456789abc"
    assert dom.findtext("memory") == str(512 * 1024)
    assert dom.findtext("vcpu") == "2"
    assert [dom.findtext(f"os/{t}") for t in ("kernel", "initrd", "cmdline")] == [
        "/k", "/i", "console=ttyS0 a=<b>&c"]
    assert dict(dom.find("os/type").attrib) == {"arch": "x86_64", "machine": "pc"}


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
def test_domain_type_follows_virt_type(virt_type):
    """<domain type> is the request's virt type."""
    assert build(request(virt_type=virt_type)).get("type") == virt_type


def test_feature_order():
    """<features> children follow Nova: acpi, apic, [hyperv], vmcoreinfo, kvm, pmu."""
    dom = build(request({"hw:pmu": "false", "hw:hide_hypervisor_id": "1"}))
    assert [f.tag for f in dom.find("features")] == ["acpi", "apic", "vmcoreinfo", "kvm", "pmu"]


def test_top_level_order():
    """Top-level elements follow LibvirtConfigGuest.format_dom order."""
    dom = build(request(ALL_ON_SPECS, ALL_ON_PROPS))
    assert [c.tag for c in dom] == [
        "uuid", "name", "memory", "memoryBacking", "vcpu", "os", "features", "clock", "cpu",
        "on_poweroff", "on_reboot", "on_crash", "devices"]


def test_device_order_and_memballoon_last():
    """Devices: serial, agent channel, rng, watchdog, then Nova's virtio memballoon last."""
    dom = build(request(ALL_ON_SPECS, ALL_ON_PROPS))
    assert [d.tag for d in dom.find("devices")] == [
        "serial", "channel", "rng", "watchdog", "memballoon"]
    balloon = dom.find("devices/memballoon")
    assert dict(balloon.attrib) == {"model": "virtio", "autodeflate": "on", "freePageReporting": "on"}
    assert balloon.find("stats").get("period") == "10"


def test_clock_qemu_has_no_timers():
    """_set_clock adds timers only for virt_type kvm."""
    dom = build(request())
    assert dom.find("clock").get("offset") == "utc"
    assert dom.findall("clock/timer") == []


def test_clock_kvm_timers():
    """For kvm: pit delay, rtc catchup, hpet absent unless hw_time_hpet."""
    timers = build(request(virt_type="kvm")).findall("clock/timer")
    assert [dict(t.attrib) for t in timers] == [
        {"name": "pit", "tickpolicy": "delay"}, {"name": "rtc", "tickpolicy": "catchup"},
        {"name": "hpet", "present": "no"}]
    hpet = build(request(props={"hw_time_hpet": "yes"}, virt_type="kvm")).find(
        "clock/timer[@name='hpet']")
    assert hpet.get("present") == "yes"


def test_windows_clock():
    """Windows: localtime clock; on kvm also the hypervclock timer."""
    dom = build(request(props={"os_type": "windows"}, virt_type="kvm"))
    assert dom.find("clock").get("offset") == "localtime"
    assert dom.find("clock/timer[@name='hypervclock']").get("present") == "yes"


def test_qemu_and_kvm_same_features():
    """Apart from <domain type> and clock timers, qemu and kvm give the same XML."""
    def strip(dom):
        dom.attrib.pop("type")
        for timer in dom.findall("clock/timer"):
            timer.getparent().remove(timer)
        dom.find("clock").text = None
        return etree.tostring(dom)
    assert strip(build(request(ALL_ON_SPECS, ALL_ON_PROPS, virt_type="qemu"))) == strip(
        build(request(ALL_ON_SPECS, ALL_ON_PROPS, virt_type="kvm")))


def test_output_is_a_string_with_one_root():
    """build() returns serialised XML text (no declaration) with a <domain> root."""
    text = ReferenceDriver().build(request())
    assert isinstance(text, str) and text.lstrip().startswith("<domain")
