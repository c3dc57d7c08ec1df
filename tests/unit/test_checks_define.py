"""The level-1 defineXML check's renamed copy: parallel checks never collide, and libvirt
still sees what the driver wrote about the domain's identity."""

from lxml import etree

from conformance.checks.define import sandboxed

DOMAIN = ("<domain type='qemu'><name>instance-1</name><uuid>{uuid}</uuid>{sysinfo}"
          "<memory>262144</memory><os><type>hvm</type></os></domain>")
SYSINFO = "<sysinfo type='smbios'><system><entry name='uuid'>{}</entry></system></sysinfo>"
INSTANCE = "00000000-0000-4000-8000-000000000001"


def copy_of(uuid: str, sysinfo_uuid: str | None) -> etree._Element:
    xml = DOMAIN.format(uuid=uuid, sysinfo=SYSINFO.format(sysinfo_uuid) if sysinfo_uuid else "")
    return sandboxed(etree.fromstring(xml), "run1")


def test_a_sysinfo_uuid_equal_to_the_uuid_follows_the_fresh_one():
    """Nova repeats the instance uuid in <sysinfo>: the copy's fresh uuid goes there too."""
    dom = copy_of(INSTANCE, INSTANCE.upper())
    fresh = dom.findtext("uuid")
    assert fresh != INSTANCE and dom.findtext("sysinfo/system/entry[@name='uuid']") == fresh


def test_a_sysinfo_uuid_that_differs_is_left_for_libvirt_to_refuse():
    """The driver's <sysinfo> uuid that is not its <uuid> is not rewritten away: libvirt
    refuses the copy ("UUID mismatch"), a libvirt.define finding, as it would refuse the
    guest."""
    other = "11111111-1111-4111-8111-111111111111"
    dom = copy_of(INSTANCE, other)
    assert dom.findtext("sysinfo/system/entry[@name='uuid']") == other
