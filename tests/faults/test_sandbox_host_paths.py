"""Sandbox rules added for host paths that the device allow list alone let through
(no libvirt needed): character-device logs, evdev/passthrough input, <os> children."""

import pytest

from conformance.lab.runs import Owner
from conformance.lab.sandbox import Placement, SandboxViolation, prepare

KERNEL, INITRD = "/var/lib/conformance/k", "/var/lib/conformance/i"
PLACEMENT = Placement(name="cfm-abcd1234-1-t", uuid="11111111-2222-3333-4444-555555555555",
                      console_path="/var/lib/conformance/runs/abcd1234/c.log",
                      owner=Owner("abcd1234", 4242, "777"), virt_type="qemu", kernel=KERNEL,
                      initrd=INITRD, cmdline="console=ttyS0", instance_name="instance-1")


def domain(devices: str = "", os_extra: str = "") -> str:
    return ("<domain type='qemu'><name>instance-1</name><memory unit='MiB'>256</memory>"
            f"<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{KERNEL}</kernel>"
            f"<initrd>{INITRD}</initrd><cmdline>console=ttyS0</cmdline>{os_extra}</os>"
            f"<devices>{devices}</devices></domain>")


@pytest.mark.parametrize("xml, rule", [
    (domain("<channel type='unix'><source mode='bind'/><log file='/etc/hostname' append='off'/>"
            "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>"), "chardev-log"),
    (domain("<serial type='pty'><log file='/etc/hostname'/></serial>"), "chardev-log"),
    (domain("<input type='evdev'><source dev='/dev/input/event0' grab='all'/></input>"), "input"),
    (domain("<input type='passthrough' bus='virtio'><source evdev='/dev/input/event0'/></input>"),
     "input"),
    (domain(os_extra="<acpi><table type='slic'>/etc/shadow</table></acpi>"), "os"),
    (domain(os_extra="<dtb>/etc/shadow</dtb>"), "os"),
])
def test_host_path_elements_are_refused(xml, rule):
    """Each element that makes libvirt/QEMU read or write a host path is refused by rule."""
    with pytest.raises(SandboxViolation) as err:
        prepare(xml, PLACEMENT)
    assert err.value.rule == rule


def test_ordinary_input_and_os_children_still_pass():
    """A tablet/keyboard input and <boot>/<smbios> in <os> remain allowed."""
    xml = domain("<input type='tablet' bus='usb'/><input type='keyboard' bus='ps2'/>",
                 "<boot dev='hd'/><smbios mode='sysinfo'/>")
    assert "tablet" in prepare(xml, PLACEMENT)
