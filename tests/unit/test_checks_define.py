"""The level-1 checks judge what the driver wrote about the domain's identity: a <sysinfo>
uuid that repeats the domain's <uuid> passes, one that differs is refused by the sandbox
(libvirt refuses it too, "UUID mismatch"), whatever the harness makes of the uuid after."""

from conformance.checks.define import check_sandbox
from conformance.contract import Request

DOMAIN = ("<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid>{sysinfo}"
          "<memory unit='KiB'>262144</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm"
          "</type><kernel>{kernel}</kernel><initrd>{initrd}</initrd><cmdline>{cmdline}</cmdline>"
          "</os><devices/></domain>")
SYSINFO = "<sysinfo type='smbios'><system><entry name='uuid'>{}</entry></system></sysinfo>"
INSTANCE = "00000000-0000-4000-8000-000000000001"


def findings(uuid: str, sysinfo_uuid: str | None):
    request = Request()
    xml = DOMAIN.format(name=request.instance_name, uuid=uuid, kernel=request.boot.kernel,
                        initrd=request.boot.initrd, cmdline=request.boot.cmdline,
                        sysinfo=SYSINFO.format(sysinfo_uuid) if sysinfo_uuid else "")
    return check_sandbox(xml, request)


def test_a_sysinfo_uuid_equal_to_the_uuid_passes():
    """Nova repeats the instance uuid in <sysinfo> (in any spelling)."""
    assert findings(INSTANCE, INSTANCE.upper()) == []


def test_a_sysinfo_uuid_that_differs_is_refused():
    """The driver's <sysinfo> uuid that is not its <uuid> is a finding of the sandbox's
    identity rule, not rewritten away."""
    found = findings(INSTANCE, "11111111-1111-4111-8111-111111111111")
    assert [f.check for f in found] == ["sandbox.uuid"]
