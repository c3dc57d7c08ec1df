"""The nova driver: Nova's own code produces each feature's XML and each named rejection."""

import os
import tempfile

import pytest
from lxml import etree

from conformance.checks.schema import check_schema
from conformance.contract import Boot, Flavor, HostSettings, Image, Rejected, Request
from conformance.drivers import nova_boot
from conformance.drivers.nova import NovaDriver
from conformance.errors import DriverFault
from nova_signature import signature

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


def _request(specs=None, props=None, **kw) -> Request:
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}),
                   **kw)


def _dom(xml: str):
    return etree.fromstring(xml.encode(), _PARSER)


def test_agent_channel_named_after_instance(nova):
    """hw_qemu_guest_agent=yes gives the virtio channel bound to the instance's socket."""
    xml = nova.build(_request(props={"hw_qemu_guest_agent": "yes"}, instance_name="cfm-n-1"))
    sig = signature(xml)
    assert sig["agent"] == [("virtio", "org.qemu.guest_agent.0")]
    assert sig["agent_path"] == ["/var/lib/libvirt/qemu/org.qemu.guest_agent.0.cfm-n-1.sock"]


def test_no_agent_by_default(nova):
    """Without the image property there is no guest agent channel."""
    assert signature(nova.build(_request()))["agent"] == []


@pytest.mark.parametrize("specs, props, want", [
    ({"hw:watchdog_action": "reset"}, {}, [("i6300esb", "reset")]),
    ({"hw:watchdog_action": "none"}, {}, [("i6300esb", "none")]),
    ({"hw:watchdog_action": "reset"}, {"hw_watchdog_action": "disabled"}, []),
    ({}, {"hw_watchdog_action": "pause"}, [("i6300esb", "pause")]),
    ({}, {}, []),
])
def test_watchdog(nova, specs, props, want):
    """The watchdog device and action, the image overriding the flavor."""
    assert signature(nova.build(_request(specs, props)))["watchdog"] == want


def test_rng_default_and_rate(nova):
    """RNG is on by default with the host's path; a rate appears when both values are set."""
    assert signature(nova.build(_request()))["rng"] == [
        ("virtio", "random", "/dev/urandom", None, None, None)]
    xml = nova.build(_request({"hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "2"},
                              host=HostSettings(rng_dev_path="/dev/random")))
    assert signature(xml)["rng"] == [("virtio", "random", "/dev/random", "1024", "2", None)]


def test_rng_not_allowed(nova):
    """hw_rng:allowed=false removes the RNG device."""
    assert signature(nova.build(_request({"hw_rng:allowed": "false"})))["rng"] == []


@pytest.mark.parametrize("specs, props, want", [
    ({"hw:pmu": "true"}, {}, [("on",)]),
    ({}, {"hw_pmu": "false"}, [("off",)]),
    ({}, {}, []),
])
def test_pmu(nova, specs, props, want):
    """<pmu state> follows hw:pmu / hw_pmu and is absent when neither is set."""
    assert signature(nova.build(_request(specs, props)))["pmu"] == want


@pytest.mark.parametrize("specs, props", [
    ({"hw:hide_hypervisor_id": "true"}, {}),
    ({"hide_hypervisor_id": "true"}, {}),
    ({"hw:hide_hypervisor_id": "false"}, {"img_hide_hypervisor_id": "true"}),
])
def test_hidden_hypervisor(nova, specs, props):
    """Any of the three keys set true hides the KVM signature."""
    assert signature(nova.build(_request(specs, props)))["kvm_hidden"] == [("on",)]


def test_hypervisor_not_hidden_by_default(nova):
    """No <kvm><hidden> without a key asking for it."""
    assert signature(nova.build(_request()))["kvm_hidden"] == []


def test_locked_memory(nova):
    """hw:locked_memory with a page size gives <memoryBacking><locked/>."""
    xml = nova.build(_request({"hw:locked_memory": "true", "hw:mem_page_size": "large"}))
    assert signature(xml)["locked"] == 1
    assert signature(nova.build(_request()))["locked"] == 0


REJECTIONS = [
    ("InvalidExtraSpec", _request({"hw:watchdog_action": "explode"})),
    ("InvalidImageProperty", _request(props={"hw_watchdog_action": "explode"})),
    ("FlavorImageConflict", _request({"hw:pmu": "true"}, {"hw_pmu": "false"})),
    ("FlavorImageLockedMemoryConflict",
     _request({"hw:locked_memory": "true", "hw:mem_page_size": "large"},
              {"hw_locked_memory": "false"})),
    ("LockMemoryForbidden", _request({"hw:locked_memory": "true"})),
    ("RngDeviceNotExist", _request(host=HostSettings(rng_dev_path="/dev/cfm-no-such-rng"))),
    ("MemoryPageSizeForbidden", _request(props={"hw_mem_page_size": "large"})),
    ("MemoryPageSizeInvalid", _request({"hw:mem_page_size": "any"}, {"hw_mem_page_size": "huge"})),
]


@pytest.mark.parametrize("code, request_", REJECTIONS, ids=[c for c, _ in REJECTIONS])
def test_rejection(nova, code, request_):
    """Each Nova exception reaches the harness as the rejection code of the same name."""
    with pytest.raises(Rejected) as info:
        nova.build(request_)
    assert info.value.rejection.code == code


def test_invalid_watchdog_action_without_api_validation(nova_lenient):
    """An unvalidated (pre-2.86) flavor value reaches the driver's InvalidWatchdogAction."""
    with pytest.raises(Rejected) as info:
        nova_lenient.build(_request({"hw:watchdog_action": "explode"}))
    assert info.value.rejection.code == "InvalidWatchdogAction"
    assert "explode" in info.value.rejection.message


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
def test_schema_valid(nova, virt_type):
    """Nova's XML with every feature on validates against libvirt's domain.rng."""
    if not os.path.exists("/usr/share/libvirt/schemas/domain.rng"):
        pytest.skip("libvirt domain schema /usr/share/libvirt/schemas/domain.rng is missing")
    xml = nova.build(_request(
        {"hw:watchdog_action": "reset", "hw:pmu": "true", "hw:hide_hypervisor_id": "true",
         "hw:locked_memory": "true", "hw:mem_page_size": "large",
         "hw_rng:rate_bytes": "10", "hw_rng:rate_period": "1"},
        {"hw_qemu_guest_agent": "yes"}, virt_type=virt_type))
    dom = _dom(xml)
    assert dom.get("type") == virt_type
    assert check_schema(dom) == []


def test_boot_replacements_recorded(nova):
    """Only the contract's parts change: kernel boot in, Nova's disk/boot/log out, all recorded."""
    boot = Boot(kernel="/k/vmlinuz", initrd="/k/initrd", cmdline="console=ttyS0 x=1")
    dom = _dom(nova.build(_request(boot=boot, instance_uuid="00000000-0000-4000-8000-0000000000aa")))
    assert [dom.findtext(f"os/{t}") for t in ("kernel", "initrd", "cmdline")] == [
        "/k/vmlinuz", "/k/initrd", "console=ttyS0 x=1"]
    assert dom.find("os/boot") is None and dom.find("devices/disk") is None
    assert dom.find("devices/serial/log") is None and dom.find("devices/graphics") is None
    assert dom.find("devices/serial[@type='pty']") is not None
    assert dom.findtext("uuid") == "00000000-0000-4000-8000-0000000000aa"
    items = dom.findall(f"metadata/{{{nova_boot.NS}}}replaced/{{{nova_boot.NS}}}item")
    assert [i.get("what") for i in items].count("added") == 3
    assert any("<disk" in i.text for i in items if i.get("what") == "removed")


def test_nova_crash_is_a_driver_fault_and_worker_survives(nova_lenient):
    """An unnamed Nova exception is a DriverFault with Nova's traceback; the next request works."""
    with pytest.raises(DriverFault) as info:
        nova_lenient.build(_request({"hw_rng:rate_bytes": "abc"}))
    assert info.value.kind == "crash" and "ValueError" in str(info.value)
    assert signature(nova_lenient.build(_request()))["rng"]


def test_dead_worker_is_restarted(nova_python):
    """A worker that died is replaced by a new one on the next request."""
    with NovaDriver(nova_python) as driver:
        driver.build(_request())
        first = driver._worker
        first.kill()
        assert signature(driver.build(_request()))["rng"]
        assert driver._worker is not first


def test_worker_that_cannot_start_is_a_crash_fault(tmp_path):
    """A worker interpreter that exits at once gives DriverFault('crash'), leaving no files."""
    before = set(os.listdir(tempfile.gettempdir()))
    driver = NovaDriver(python="/bin/false")
    with pytest.raises(DriverFault) as info:
        driver.build(_request())
    driver.close()
    assert info.value.kind == "crash"
    leftovers = {n for n in set(os.listdir(tempfile.gettempdir())) - before
                 if n.startswith("cfm-nova-")}
    assert not leftovers


def test_every_nova_answer_passes_the_sandbox(nova):
    """Nova's XML for every catalogue case it accepts (qemu and kvm) survives libvirt's RelaxNG
    validation, libvirt's reading and the allow list (a UEFI domain's firmware and launch
    security: their own allow list): the sandbox refuses nothing Nova does."""
    from dataclasses import replace as with_

    from conformance.catalogue import ALL_CASES
    from conformance.lab.runs import Owner
    from conformance.catalogue.expected import expected_outcome
    from conformance.checks.define import never_defined
    from conformance.lab.encrypted import split
    from conformance.lab.sandbox import Placement, parse_untrusted, prepare
    refused, checked = [], 0
    for case in ALL_CASES:
        for virt_type in ("qemu", "kvm"):
            request = case.request(virt_type)
            if request.protocol > nova.protocol:  # a protocol the driver does not speak
                continue
            try:
                xml = nova.build(request)
            except (Rejected, DriverFault):
                continue
            placement = Placement(name="cfm-nova-1-x", uuid="11111111-2222-3333-4444-555555555555",
                                  console_path="/var/lib/conformance/runs/nova/c.log",
                                  owner=Owner("nova", 1, "1"), virt_type=request.virt_type,
                                  kernel=request.boot.kernel, initrd=request.boot.initrd,
                                  cmdline=request.boot.cmdline, instance_name=request.instance_name)
            try:
                if never_defined(expected_outcome(request), request):
                    # UEFI / memory encryption: firmware and launch security judged by
                    # lab/encrypted.py, never defined; the rest by the sandbox
                    xml = etree.tostring(split(parse_untrusted(xml)), encoding="unicode")
                prepare(xml, with_(placement))
                checked += 1
            except Exception as exc:  # noqa: BLE001 - collect every refusal, then fail once
                refused.append(f"{case.id} {case.feature}/{case.name} [{virt_type}]: {exc}")
    assert refused == [] and checked > 100, "\n".join(refused[:20])
