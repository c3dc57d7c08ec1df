"""The sandbox judges the XML libvirt will use, not the driver's text (no libvirt daemon:
libvirt's in-process test driver reads the XML).

libvirt merges every ``<devices>``, reads ``<loader>``/``<nvram>`` from any ``<os>``, drops
child elements inside text and knows memory units the harness did not: each hole below
once let a host path or a huge allocation through the old text checks."""

import threading

import pytest
from lxml import etree

from conformance.lab.runs import OWNER_NS, Owner
from conformance.lab.sandbox import Placement, SandboxViolation, prepare

libvirt = pytest.importorskip("libvirt")

KERNEL, INITRD = "/var/lib/conformance/images/x/vmlinuz", "/var/lib/conformance/images/x/initrd.img"
CMDLINE = "console=ttyS0 panic=-1"
PLACEMENT = Placement(name="cfm-abcd1234-1-t", uuid="11111111-2222-3333-4444-555555555555",
                      console_path="/var/lib/conformance/runs/abcd1234/c.log",
                      owner=Owner("abcd1234", 4242, "777"), virt_type="qemu", kernel=KERNEL,
                      initrd=INITRD, cmdline=CMDLINE, instance_name="instance-1")
CANARY = "/var/tmp/cfm-canary"


def domain(devices: str = "", os_extra: str = "", head: str = "", tail: str = "",
           os_attrs: str = "", memory: str = "<memory unit='MiB'>256</memory>",
           cmdline: str = CMDLINE) -> str:
    return ("<domain type='qemu'><name>instance-1</name>"
            f"<uuid>99999999-2222-3333-4444-555555555555</uuid>{memory}<vcpu>1</vcpu>{head}"
            f"<os{os_attrs}><type arch='x86_64' machine='pc'>hvm</type><kernel>{KERNEL}</kernel>"
            f"<initrd>{INITRD}</initrd><cmdline>{cmdline}</cmdline>{os_extra}</os>"
            "<devices><serial type='pty'/>"
            "<channel type='unix'><source mode='bind'/>"
            "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
            f"{devices}</devices>{tail}</domain>")


SECOND_DEVICES = {
    "serial-file": f"<serial type='file'><source path='{CANARY}/created'/></serial>",
    "emulator": f"<emulator>{CANARY}/script</emulator>",
    "disk": f"<disk type='file' device='disk'><source file='{CANARY}/existing'/>"
            "<target dev='vda' bus='virtio'/></disk>",
    "cdrom": f"<disk type='file' device='cdrom'><source file='{CANARY}/existing'/>"
             "<target dev='hdc' bus='ide'/><readonly/></disk>",
    "filesystem": "<filesystem type='mount'><source dir='/'/><target dir='root'/></filesystem>",
    "interface-script": f"<interface type='ethernet'><script path='{CANARY}/script'/></interface>",
    "tpm": "<tpm model='tpm-tis'><backend type='passthrough'><device path='/dev/tpm0'/>"
           "</backend></tpm>",
    "hostdev": "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0'"
               " bus='0' slot='1' function='0'/></source></hostdev>",
    "log": f"<console type='pty'><log file='{CANARY}/created'/></console>",
}


@pytest.mark.parametrize("kind", sorted(SECOND_DEVICES))
def test_a_second_devices_element_is_refused(kind):
    """libvirt merges every <devices>: a second one is refused (libvirt's RelaxNG schema)."""
    xml = domain(tail=f"<devices>{SECOND_DEVICES[kind]}</devices>")
    with pytest.raises(SandboxViolation) as err:
        prepare(xml, PLACEMENT)
    assert err.value.rule == "schema"


def test_a_second_os_with_nvram_is_refused():
    """libvirt reads <loader>/<nvram> of a second <os>: refused (schema)."""
    xml = domain(tail=f"<os><loader readonly='yes' type='pflash'>{CANARY}/existing</loader>"
                      f"<nvram>{CANARY}/existing</nvram></os>")
    with pytest.raises(SandboxViolation) as err:
        prepare(xml, PLACEMENT)
    assert err.value.rule == "schema"


def test_rng_backend_with_a_child_element_before_the_path_is_refused():
    """``<backend><x/>/etc/shadow</backend>``: ``.text`` was empty, libvirt reads the path."""
    xml = domain("<rng model='virtio'><backend model='random'><x/>/etc/shadow</backend></rng>")
    with pytest.raises(SandboxViolation):
        prepare(xml, PLACEMENT)


@pytest.mark.parametrize("unit, value", [("TiB", "1"), ("T", "1"), ("P", "1"), ("PiB", "1"),
                                         ("EiB", "1"), ("bytes", "4294967296")])
def test_memory_in_any_unit_libvirt_knows_is_bounded(unit, value):
    """Memory is judged in libvirt's canonical KiB: 1 TiB is not 1 KiB."""
    xml = domain(memory=f"<memory unit='{unit}'>{value}</memory>")
    with pytest.raises(SandboxViolation) as err:
        prepare(xml, PLACEMENT)
    assert err.value.rule in ("memory", "libvirt-parse")


def test_cmdline_is_harness_owned():
    """<os><cmdline> other than the harness's boot cmdline is refused."""
    with pytest.raises(SandboxViolation) as err:
        prepare(domain(cmdline="console=ttyS0 init=/bin/sh"), PLACEMENT)
    assert err.value.rule == "cmdline"


REFUSED = {
    # <os firmware='efi'> makes libvirt create an nvram file on the host
    "os-firmware": (domain(os_attrs=" firmware='efi'"), "os"),
    # host SMBIOS data copied into the guest
    "smbios-host": (domain(os_extra="<smbios mode='host'/>"), "os"),
    "sysinfo-fwcfg-file": (domain(head=f"<sysinfo type='fwcfg'><entry name='opt/cfm/x' "
                                       f"file='{CANARY}/existing'/></sysinfo>"), "sysinfo"),
    "video-vhostuser": (domain("<video><driver name='vhostuser'/><model type='virtio'/></video>"),
                        "video"),
    "video-rendernode": (domain("<video><driver name='vhostuser'/><model type='virtio'>"
                                "<acceleration accel3d='yes' rendernode='/dev/dri/renderD128'/>"
                                "</model></video>"), "video"),
    "blkiotune-device": (domain(head="<blkiotune><device><path>/dev/sda</path><weight>500</weight>"
                                     "</device></blkiotune>"), "element"),
    "memory-backing-file": (domain(head="<memoryBacking><source type='file'/>"
                                        "<access mode='shared'/></memoryBacking>"),
                            "memory-backing"),
    "resource-partition": (domain(head="<resource><partition>/machine/cfm</partition></resource>"),
                           "element"),
    "watchdog-dump": (domain("<watchdog model='i6300esb' action='dump'/>"), "watchdog"),
    "on-crash-coredump": (domain(tail="<on_crash>coredump-destroy</on_crash>"), "lifecycle"),
    "channel-guestfwd": (domain("<channel type='unix'><source mode='connect' path='/run/x.sock'/>"
                                "<target type='guestfwd' address='10.0.2.1' port='4600'/>"
                                "</channel>"), "channel"),
    "audio-file": (domain(f"<audio id='1' type='file' path='{CANARY}/created'/>"), "device"),
    "cpu-numa-shared": (domain(head="<cpu><numa><cell id='0' cpus='0' memory='262144' "
                                    "memAccess='shared'/></numa></cpu>"), "cpu"),
    "cpu-numa-discard": (domain(head="<cpu><numa><cell id='0' cpus='0' memory='262144' "
                                     "discard='yes'/></numa></cpu>"), "cpu"),
    # placement 'auto' asks numad, a host program, where to put the guest
    "numatune-auto": (domain(head="<numatune><memory mode='strict' placement='auto'/>"
                                  "</numatune>"), "numatune"),
    # libvirt binds a virtio channel's socket at <channel target dir>/<target name>: a name
    # with a slash would place it anywhere QEMU may write
    "channel-name-traversal": (domain("<channel type='unix'><source mode='bind'/><target "
                                      "type='virtio' name='x/../../../../../../../var/tmp/"
                                      "cfm-canary/created'/></channel>"), "channel"),
    # the model goes into QEMU's -cpu option: a comma would add CPU properties
    "cpu-model-with-properties": (domain(head="<cpu mode='custom'><model>qemu64,+vmx</model>"
                                         "</cpu>"), "cpu"),
    "emulator-char-refs": (domain("<emulator>&#47;var&#47;tmp/cfm-canary/script</emulator>"),
                           "emulator"),
    "emulator-cdata": (domain(f"<emulator><![CDATA[{CANARY}/script]]></emulator>"), "emulator"),
    # backstop: a host path in an element the allow list lets through
    "oem-string-path": (domain(head="<sysinfo type='smbios'><oemStrings><entry>/etc/shadow"
                                    "</entry></oemStrings></sysinfo>"), "host-path"),
    "hyperv-vendor-path": (domain(head="<features><hyperv mode='custom'><vendor_id state='on' "
                                       "value='/etc/x'/></hyperv></features>"), "host-path"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_allow_list_refuses(case):
    """Elements and attributes outside the allow list of libvirt's canonical XML are refused,
    each by its rule."""
    xml, rule = REFUSED[case]
    with pytest.raises(SandboxViolation) as err:
        prepare(xml, PLACEMENT)
    assert err.value.rule == rule, str(err.value)


def test_the_harness_gets_libvirts_canonical_xml():
    """What prepare returns is libvirt's reading (memory in KiB, one <devices>) with the
    harness-owned parts: name, uuid, console, owner marker; free text stays free."""
    xml = domain(head="<description>/etc/shadow is just text here</description>",
                 memory="<memory unit='GiB'>1</memory>")
    root = etree.fromstring(prepare(xml, PLACEMENT).encode())
    assert root.find("memory").get("unit") == "KiB" and root.findtext("memory") == "1048576"
    assert len(root.findall("devices")) == 1 and len(root.findall("os")) == 1
    assert (root.findtext("name"), root.findtext("uuid")) == (PLACEMENT.name, PLACEMENT.uuid)
    assert root.find(f"metadata/{{{OWNER_NS}}}owner").get("run") == "abcd1234"
    assert root.findtext("os/cmdline") == CMDLINE
    from conformance.checks.schema import domain_schema
    assert domain_schema().validate(root), domain_schema().error_log  # libvirt's RelaxNG


def test_owner_marker_goes_after_libvirts_ids():
    """With a <genid>, the new <metadata> still leaves name, uuid and genid together (libxml2's
    RelaxNG refuses anything between them): the output validates."""
    from conformance.checks.schema import domain_schema
    root = etree.fromstring(prepare(domain(head="<genid/>"), PLACEMENT).encode())
    assert [e.tag for e in root][:4] == ["name", "uuid", "genid", "metadata"]
    assert domain_schema().validate(root), domain_schema().error_log


def test_libvirts_reading_is_thread_safe_and_survives_a_parser_crash():
    """Concurrent prepares (same instance name, good and bad XML) each get their own answer;
    an XML that crashes libvirt's parser (libvirt 9.0 segfaults on 4e9 iothreads) is refused
    by rule, the harness process lives on and the next XML is read again."""
    errors, results = [], []

    def work(i):
        try:
            xml = domain() if i % 2 else domain(tail="<devices/>")
            results.append(prepare(xml, PLACEMENT))
        except SandboxViolation as exc:
            errors.append(exc.rule)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 8 and errors == ["schema"] * 8
    with pytest.raises(SandboxViolation) as err:
        prepare(domain(head="<iothreads>4000000000</iothreads>"), PLACEMENT)
    assert err.value.rule in ("libvirt-parse", "iothreads")
    assert etree.fromstring(prepare(domain(), PLACEMENT).encode()).findtext("name") == PLACEMENT.name


def test_every_reference_answer_passes_the_sandbox():
    """The reference driver's XML for every case it accepts (create and lifecycle, qemu and
    kvm) is inside the allow list: the sandbox costs a conforming driver nothing."""
    from dataclasses import replace

    from conformance.catalogue import ALL_CASES
    from conformance.catalogue.expected import expected_outcome
    from conformance.lab import encrypted
    from conformance.lab.sandbox import parse_untrusted
    from conformance.reference import ReferenceDriver
    checked = 0
    for case in ALL_CASES:
        for virt_type in ("qemu", "kvm"):
            request = case.request(virt_type)
            if not expected_outcome(request).accepted:
                continue
            placement = replace(PLACEMENT, virt_type=request.virt_type, kernel=request.boot.kernel,
                                initrd=request.boot.initrd, cmdline=request.boot.cmdline,
                                instance_name=request.instance_name)
            xml = ReferenceDriver().build(request)
            if expected_outcome(request).features.mem_encryption is not None:
                # never defined: firmware and launch security judged by lab/encrypted.py
                xml = etree.tostring(encrypted.split(parse_untrusted(xml)), encoding="unicode")
            prepare(xml, placement)
            checked += 1
    assert checked > 100


def test_a_pinned_guests_numa_topology_passes():
    """Nova writes a pinned guest's NUMA cell and its host memory node (strict, static): the
    sandbox lets that through."""
    xml = domain(head="<numatune><memory mode='strict' nodeset='0'/><memnode cellid='0' "
                      "mode='strict' nodeset='0'/></numatune><cpu><numa><cell id='0' cpus='0' "
                      "memory='262144' unit='KiB'/></numa></cpu>")
    canonical = etree.fromstring(prepare(xml, PLACEMENT).encode())
    assert canonical.find("numatune/memnode").get("nodeset") == "0"
    assert canonical.find("cpu/numa/cell").get("cpus") == "0"
