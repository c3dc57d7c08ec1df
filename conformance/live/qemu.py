"""Host-side views of a running guest: QEMU's command line, /proc files, QMP QOM queries.

``/proc`` of the QEMU process is read on the libvirt host: ``host`` is the guest's
(:mod:`conformance.lab.host`: this machine's files, or a command over ssh); None reads
this machine's ``PROC`` (unit tests point it at a fake tree).
"""

from __future__ import annotations

import json

from conformance.errors import HarnessError

PERIPHERALS = "/machine/peripheral"
PROC = "/proc"  # unit tests point this at a fake tree


def _proc(pid: int, name: str, host=None) -> bytes:
    if host is None or host.local:
        with open(f"{PROC}/{pid}/{name}", "rb") as f:
            return f.read()
    return host.read_bytes(f"/proc/{pid}/{name}")


def cmdline(pid: int, host=None) -> list[str]:
    """argv of the QEMU process."""
    return [a.decode(errors="replace") for a in _proc(pid, "cmdline", host).split(b"\0") if a]


def guest_cmdline(guest) -> list[str]:
    """argv of ``guest``'s QEMU process, read on its libvirt host."""
    return cmdline(guest.pid, getattr(guest, "host", None))


def option_values(argv: list[str], option: str) -> list[str]:
    """Every value given to ``option`` (e.g. "-cpu") in ``argv``, in order."""
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == option]


def cpu_properties(argv: list[str]) -> dict[str, str]:
    """``-cpu MODEL,k=v,...`` as {"model": MODEL, k: v}; last -cpu wins (as in QEMU)."""
    values = option_values(argv, "-cpu")
    if not values:
        return {}
    model, *props = values[-1].split(",")
    out = {"model": model}
    for prop in props:
        key, _, value = prop.partition("=")
        out[key] = value if _ else "on"
    return out


def device_args(argv: list[str]) -> list[dict]:
    """Every ``-device`` as a dict (JSON form as libvirt >= 7 writes it, or k=v form)."""
    devices = []
    for value in option_values(argv, "-device"):
        if value.startswith("{"):
            devices.append(json.loads(value))
        else:
            driver, *props = value.split(",")
            dev = {"driver": driver}
            dev.update(p.partition("=")[::2] for p in props)
            devices.append(dev)
    return devices


def watchdog_action(argv: list[str]) -> str | None:
    """The watchdog action QEMU was started with: ``-watchdog-action X`` or ``-action watchdog=X``."""
    action = None
    for value in option_values(argv, "-watchdog-action"):
        action = value
    for value in option_values(argv, "-action"):
        for part in value.split(","):
            key, _, val = part.partition("=")
            if key == "watchdog":
                action = val
    return action


def overcommit(argv: list[str]) -> dict[str, str]:
    """``-overcommit mem-lock=on,...`` (and legacy ``-realtime mlock=on``) as a dict."""
    out = {}
    for value in option_values(argv, "-overcommit"):
        out.update(p.partition("=")[::2] for p in value.split(","))
    for value in option_values(argv, "-realtime"):
        for part in value.split(","):
            key, _, val = part.partition("=")
            if key == "mlock":
                out["mem-lock"] = val
    return out


def proc_status(pid: int, host=None) -> dict[str, str]:
    """/proc/PID/status as {field: value}."""
    lines = _proc(pid, "status", host).decode(errors="replace").splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


def status_kib(pid: int, field: str, host=None) -> int:
    """A ``kB`` field of /proc/PID/status (VmLck, VmRSS, ...) in KiB."""
    return int(proc_status(pid, host).get(field, "0 kB").split()[0])


def limit(pid: int, name: str = "Max locked memory", host=None) -> tuple[str, str]:
    """(soft, hard) of one row of /proc/PID/limits ("unlimited" or a number of bytes)."""
    for line in _proc(pid, "limits", host).decode(errors="replace").splitlines():
        if line.startswith(name):
            soft, hard = line[len(name):].split()[:2]
            return soft, hard
    raise KeyError(name)


def peripherals(guest) -> dict[str, str]:
    """User-created QEMU devices: {id: type}, e.g. {"rng0": "virtio-rng-pci"}."""
    out = {}
    for item in guest.qmp("qom-list", path=PERIPHERALS):
        kind = item.get("type", "")
        if kind.startswith("child<"):
            out[item["name"]] = kind[len("child<"):-1]
    return out


def devices_of_type(guest, *types: str) -> list[str]:
    """QOM paths of peripherals whose type is one of ``types``."""
    return [f"{PERIPHERALS}/{name}" for name, kind in sorted(peripherals(guest).items())
            if kind in types]


def qom_get(guest, path: str, prop: str):
    return guest.qmp("qom-get", path=path, property=prop)


def pci_functions(guest) -> list[dict]:
    """Every PCI function from ``query-pci``: {vendor, device, qdev_id, bus, slot}, also those
    behind bridges (on q35 the i6300esb sits behind a PCIe-to-PCI bridge, virtio devices
    behind PCIe root ports)."""
    out = []

    def walk(devices, bus):
        for dev in devices:
            out.append({"vendor": dev["id"]["vendor"], "device": dev["id"]["device"],
                        "qdev_id": dev.get("qdev_id", ""), "bus": bus, "slot": dev["slot"]})
            bridge = dev.get("pci_bridge") or {}
            walk(bridge.get("devices", []), bridge.get("bus", {}).get("number", bus))

    for root in guest.qmp("query-pci"):
        walk(root.get("devices", []), root["bus"])
    return out


def cpu_qom_path(guest) -> str:
    """QOM path of vCPU 0."""
    return guest.qmp("query-cpus-fast")[0]["qom-path"]


CPU_SNAPSHOT = ("cat /proc/{pid}/task/*/schedstat 2>/dev/null; echo @; head -1 /proc/stat; "
                "echo @; cat /proc/loadavg")
CLOCK_TICKS = 100  # USER_HZ of /proc/stat on Linux x86


def cpu_snapshot(guest) -> dict | None:
    """How much CPU the guest's QEMU was denied so far, on its libvirt host: its threads'
    summed run-queue wait (ns, /proc/PID/task/*/schedstat), the host's stolen time (ticks,
    /proc/stat) and load average; None when the host cannot be read (no shell, QEMU gone).
    Two snapshots around a measurement tell whether the host starved it."""
    host = getattr(guest, "host", None)
    if host is None:
        return None
    try:
        out = host.run(["sh", "-c", CPU_SNAPSHOT.format(pid=int(guest.pid))]).stdout
        tasks, stat, load = out.split("@\n")
        waits = [int(line.split()[1]) for line in tasks.splitlines() if line.strip()]
        steal = int(stat.split()[8])
        return {"qemu_wait_ns": sum(waits), "steal_ticks": steal, "load1": float(load.split()[0])}
    except (HarnessError, OSError, ValueError, IndexError):
        return None


def cpu_denied(before: dict | None, after: dict | None) -> dict | None:
    """What the host denied QEMU between two :func:`cpu_snapshot` (seconds), or None."""
    if not before or not after:
        return None
    return {"qemu_waited_s": round((after["qemu_wait_ns"] - before["qemu_wait_ns"]) / 1e9, 2),
            "host_stolen_s": round((after["steal_ticks"] - before["steal_ticks"]) / CLOCK_TICKS, 2),
            "load1": after["load1"]}
