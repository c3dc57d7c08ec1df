"""The allow list, applied to libvirt's canonical reading of driver XML.

What is not listed here is refused, each refusal naming its rule. The lists hold what the
reference driver and upstream Nova produce and what cannot reach the host: no host file,
host device, host binary or host data, and bounded memory and CPU. A last backstop
(:func:`check_host_paths`) refuses any value outside ``<metadata>``, ``<description>`` and
``<title>`` that names a host path the harness did not supply.
"""

from __future__ import annotations

import os
import re
import stat

from conformance.errors import SandboxViolation

MAX_MEMORY_KIB = 2048 * 1024
MAX_VCPUS = 4
MAX_IOTHREADS = 4
MAX_VIDEO_KIB = 256 * 1024  # each of a video model's ram, vram, vram64, vgamem
HOST_EMULATORS = {"/usr/bin/qemu-system-x86_64", "/usr/bin/kvm"}

DOMAIN_CHILDREN = {"name", "uuid", "genid", "title", "description", "metadata", "memory",
                   "currentMemory", "vcpu", "iothreads", "cputune", "memtune", "memoryBacking",
                   "numatune",
                   "sysinfo", "os", "features", "cpu", "clock", "on_poweroff", "on_reboot",
                   "on_crash", "pm", "devices"}
# (cachetune/memorytune make resctrl groups on the host)
CPUTUNE_CHILDREN = {"shares", "period", "quota", "global_period", "global_quota",
                    "emulator_period", "emulator_quota", "iothread_period", "iothread_quota",
                    "vcpupin", "emulatorpin", "iothreadpin", "vcpusched", "iothreadsched",
                    "emulatorsched"}
# (source/access: file-backed or shared memory; hugepages: files in hugetlbfs)
MEMORY_BACKING_CHILDREN = {"locked", "nosharepages", "discard", "allocation"}
SYSINFO_CHILDREN = {"bios", "system", "baseBoard", "chassis", "processor", "memory",
                    "oemStrings"}
OS_CHILDREN = {"type", "kernel", "initrd", "cmdline", "boot", "bootmenu", "smbios", "bios"}
SMBIOS_MODES = {"sysinfo", "emulate"}  # "host" copies the host's SMBIOS data
CPU_CHILDREN = {"model", "vendor", "topology", "feature", "cache", "maxphysaddr", "numa"}
# A pinned guest's NUMA cells and their host memory nodes (Nova writes both); placement
# 'auto' asks numad, a host program, and is refused.
NUMATUNE_CHILDREN = {"memory", "memnode"}
NUMA_MODES = {"strict", "preferred", "interleave", "restrictive"}
NUMA_CELL_CHILDREN = {"distances"}
# memAccess='shared' and discard back guest RAM by files in the host's memory backing dir
NUMA_CELL_ATTRS = {"id", "cpus", "memory", "unit"}
LIFECYCLE_ACTIONS = {"destroy", "restart", "preserve", "rename-restart"}  # no coredump-*
DEVICES = {"controller", "channel", "input", "video", "memballoon", "rng", "watchdog",
           "panic", "serial", "console", "emulator"}
INPUT_TYPES = {"mouse", "tablet", "keyboard"}
WATCHDOG_ACTIONS = {"reset", "shutdown", "poweroff", "pause", "none", "inject-nmi"}  # no dump
VIDEO_CHILDREN = {"model", "address", "alias", "driver"}
VIDEO_MEMORY = ("ram", "vram", "vram64", "vgamem")
# (major, minor) of the character devices an RNG backend may read: null, zero, random,
# urandom (major 1) and hwrng (10:183). Never /dev/mem, /dev/kmem, /dev/port, disks.
RNG_DEVICES = {(1, 3), (1, 5), (1, 8), (1, 9), (10, 183)}
FREE_TEXT = {"metadata", "description", "title"}
# A virtio channel without a source path gets its socket at <channel target dir>/<name>;
# a CPU model or vendor goes into QEMU's -cpu option (a comma would add properties).
CHANNEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def local_char_device(path: str) -> tuple[int, int] | None:
    """(major, minor) of ``path`` on this machine if it is a character device, else None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (os.major(info.st_rdev), os.minor(info.st_rdev)) if stat.S_ISCHR(info.st_mode) else None


def _elements(parent) -> list:
    return [child for child in parent if isinstance(child.tag, str)]


def _only(parent, allowed: set, rule: str) -> None:
    for child in _elements(parent):
        if child.tag not in allowed:
            raise SandboxViolation(rule, f"<{parent.tag}><{child.tag}> is not allowed")


def _kib(element) -> int:
    """An element's size in KiB: libvirt's canonical form writes KiB (or bytes)."""
    unit = element.get("unit", "KiB")
    try:
        value = int(element.text)
    except (TypeError, ValueError):
        raise SandboxViolation("memory", f"unreadable <{element.tag}>") from None
    if unit not in ("KiB", "b", "bytes"):
        raise SandboxViolation("memory", f"<{element.tag}> in {unit!r}, not libvirt's KiB")
    return value if unit == "KiB" else value // 1024


def check_domain(root, placement, char_device) -> None:
    """Every allow-list rule on the canonical ``root`` (before the harness-owned parts)."""
    if root.tag != "domain":
        raise SandboxViolation("root", f"root element is <{root.tag}>, not <domain>")
    if root.get("type") != placement.virt_type:
        raise SandboxViolation("virt-type", f"domain type {root.get('type')!r}, "
                                            f"requested {placement.virt_type!r}")
    for child in _elements(root):
        if child.tag == "seclabel":
            raise SandboxViolation("seclabel", "<seclabel> is not accepted")
        if child.tag not in DOMAIN_CHILDREN:
            raise SandboxViolation("element", f"<domain><{child.tag}> is not allowed")
    _check_resources(root)
    _check_os(root.find("os"), placement)
    for tag, allowed, rule in (("cputune", CPUTUNE_CHILDREN, "cputune"),
                               ("memoryBacking", MEMORY_BACKING_CHILDREN, "memory-backing"),
                               ("cpu", CPU_CHILDREN, "cpu")):
        for element in root.iterfind(tag):
            _only(element, allowed, rule)
    _check_numa(root)
    for element in [*root.iterfind("cpu/model"), *root.iterfind("cpu/vendor")]:
        if not PLAIN_NAME.match(element.text or ""):
            raise SandboxViolation("cpu", f"<cpu><{element.tag}> {element.text!r} is not a "
                                          "plain name")
    for sysinfo in root.iterfind("sysinfo"):
        if sysinfo.get("type") != "smbios":
            raise SandboxViolation("sysinfo", f"<sysinfo type={sysinfo.get('type')!r}>: only "
                                              "smbios (fwcfg entries read host files)")
        _only(sysinfo, SYSINFO_CHILDREN, "sysinfo")
    for tag in ("on_poweroff", "on_reboot", "on_crash"):
        action = root.findtext(tag)
        if action is not None and action not in LIFECYCLE_ACTIONS:
            raise SandboxViolation("lifecycle", f"<{tag}>{action}</{tag}> (a core dump is a "
                                                "host file)")
    for devices in root.iterfind("devices"):
        for device in _elements(devices):
            _check_device(device, char_device)


def _check_numa(root) -> None:
    for tune in root.iterfind("numatune"):
        _only(tune, NUMATUNE_CHILDREN, "numatune")
        for node in [tune, *_elements(tune)]:
            if node.get("placement", "static") != "static" or \
                    node.get("mode", "strict") not in NUMA_MODES:
                raise SandboxViolation("numatune", f"<{node.tag} {dict(node.attrib)}>: static "
                                                   "placement and a memory mode only")
    for numa in root.iterfind("cpu/numa"):
        _only(numa, {"cell"}, "cpu")
        for cell in numa.iterfind("cell"):
            _only(cell, NUMA_CELL_CHILDREN, "cpu")
            if set(cell.attrib) - NUMA_CELL_ATTRS:
                raise SandboxViolation("cpu", f"<cpu><numa><cell {dict(cell.attrib)}>: only "
                                              f"{', '.join(sorted(NUMA_CELL_ATTRS))}")


def _check_resources(root) -> None:
    for tag in ("memory", "currentMemory"):
        element = root.find(tag)
        if element is not None and _kib(element) > MAX_MEMORY_KIB:
            raise SandboxViolation("memory", f"<{tag}> of {_kib(element)} KiB, at most "
                                             f"{MAX_MEMORY_KIB} KiB")
    for tag, most, rule in (("vcpu", MAX_VCPUS, "vcpu"), ("iothreads", MAX_IOTHREADS, "iothreads")):
        text = root.findtext(tag)
        try:
            count = int(text) if text is not None else 0
        except ValueError:
            raise SandboxViolation(rule, f"unreadable <{tag}>") from None
        if count > most:
            raise SandboxViolation(rule, f"{count} {tag}, at most {most}")


def _check_os(os_el, placement) -> None:
    if os_el is None:
        raise SandboxViolation("os", "no <os> element")
    if os_el.attrib:
        raise SandboxViolation("os", f"<os> attributes {dict(os_el.attrib)} (firmware='efi' "
                                     "makes libvirt create an nvram file on the host)")
    for child in _elements(os_el):
        if child.tag in ("loader", "nvram"):
            raise SandboxViolation("os", f"<os><{child.tag}> points at host firmware")
        if child.tag not in OS_CHILDREN:
            raise SandboxViolation("os", f"<os><{child.tag}> is not allowed")
    for smbios in os_el.iterfind("smbios"):
        if smbios.get("mode") not in SMBIOS_MODES:
            raise SandboxViolation("os", f"<smbios mode={smbios.get('mode')!r}> (host copies the "
                                         "host's SMBIOS data)")
    for tag, wanted in (("kernel", placement.kernel), ("initrd", placement.initrd)):
        if os_el.findtext(tag) != wanted:
            raise SandboxViolation("boot-files", f"<os><{tag}> is {os_el.findtext(tag)!r}, "
                                                 f"the harness supplied {wanted!r}")
    if os_el.findtext("cmdline") != placement.cmdline:
        raise SandboxViolation("cmdline", f"<os><cmdline> is {os_el.findtext('cmdline')!r}, the "
                                          f"harness supplied {placement.cmdline!r}")


def _check_device(device, char_device) -> None:
    tag = device.tag
    if tag not in DEVICES:
        raise SandboxViolation("device", f"<{tag}> is not allowed")
    if device.find(".//log") is not None:
        raise SandboxViolation("chardev-log", f"<{tag}><log> writes to a host file")
    if tag == "emulator" and device.text not in HOST_EMULATORS:
        raise SandboxViolation("emulator", f"<emulator> {device.text!r}")
    if tag == "channel":
        source, target = device.find("source"), device.find("target")
        if device.get("type") != "unix":
            raise SandboxViolation("channel", f"channel type {device.get('type')!r}")
        if source is not None and source.get("mode", "bind") != "bind":
            raise SandboxViolation("channel", f"channel source mode {source.get('mode')!r}")
        if target is None or target.get("type") != "virtio":
            raise SandboxViolation("channel", "only virtio channel targets (guestfwd reaches "
                                              "host sockets)")
        if not CHANNEL_NAME.match(target.get("name") or ""):
            raise SandboxViolation("channel", f"channel name {target.get('name')!r}: libvirt "
                                              "makes it a socket path (letters, digits, . _ -)")
    if tag == "input" and (device.get("type") not in INPUT_TYPES or device.find("source") is not None):
        raise SandboxViolation("input", f"input type {device.get('type')!r}")
    if tag == "video":
        _check_video(device)
    if tag == "watchdog" and device.get("action", "reset") not in WATCHDOG_ACTIONS:
        raise SandboxViolation("watchdog", f"watchdog action {device.get('action')!r} (a dump is "
                                           "a host file)")
    if tag == "rng":
        _check_rng(device, char_device)


def _check_video(video) -> None:
    _only(video, VIDEO_CHILDREN, "video")
    driver = video.find("driver")
    if driver is not None and driver.get("name") == "vhostuser":
        raise SandboxViolation("video", "a vhost-user GPU runs a host binary")
    for model in video.iterfind("model"):
        if _elements(model):
            raise SandboxViolation("video", f"<model><{_elements(model)[0].tag}> (3D "
                                            "acceleration opens host render nodes)")
        for name in VIDEO_MEMORY:
            value = model.get(name)
            if value is not None and (not value.isdigit() or int(value) > MAX_VIDEO_KIB):
                raise SandboxViolation("memory", f"video {name}={value!r} KiB, at most "
                                                 f"{MAX_VIDEO_KIB}")


def _check_rng(rng, char_device) -> None:
    backend = rng.find("backend")
    if backend is None or backend.get("model") != "random":
        raise SandboxViolation("rng-backend", "only <backend model='random'> is allowed")
    path = backend.text or ""
    if path and (not os.path.isabs(path)
                 or (char_device or local_char_device)(path) not in RNG_DEVICES):
        raise SandboxViolation("rng-backend", f"{path!r} is not an allowed RNG character "
                                              "device (null, zero, random, urandom, hwrng)")


def _names_a_path(value: str) -> bool:
    value = value.strip()
    return value.startswith(("/", "./", "../", "~/", "file:"))


def check_host_paths(root, supplied: set[str]) -> None:
    """Backstop: any attribute or text outside free-text elements that names a host path
    must be one the harness supplied (``supplied``: boot files, console, firmware, the host's
    QEMU, the checked RNG device)."""
    def walk(element) -> None:
        for name, value in element.attrib.items():
            if _names_a_path(value) and value not in supplied:
                raise SandboxViolation("host-path", f"<{element.tag} {name}={value!r}> names a "
                                                    "host path the harness did not supply")
        if element.text and _names_a_path(element.text) and element.text not in supplied:
            raise SandboxViolation("host-path", f"<{element.tag}>{element.text!r} names a host "
                                                "path the harness did not supply")
        for child in _elements(element):
            if child.tag not in FREE_TEXT:
                walk(child)
    walk(root)
