"""vPMU, live: the ``pmu`` CPU property QEMU got (host) and the PMU the guest sees (guest).

Host: ``-cpu ...,pmu=on|off`` on QEMU's command line and the vCPU's ``pmu`` QOM property
agree with the request; with no request (None) the command line carries no ``pmu=``.
Guest (needs KVM: under TCG the guest never sees a PMU): three probes, each of which must
have run and been able to show a PMU, else the check is a :class:`GuestError`, not a
verdict: CPUID leaf 0xA (architectural PMU version, readable only when the vCPU's max
basic leaf reaches 0xA), ``perfprobe`` (a hardware cycles counter; absence is
perf_event_open failing with ENOENT/EOPNOTSUPP/ENODEV, not EACCES) and the kernel's
"Performance Events:" boot line (a PMU driver, or none usable; an empty dmesg proves
nothing). Which probe shows a PMU depends on the host CPU vendor (leaf 0xA is Intel's
interface; the AMD counters of qemu64 have no CPUID leaf), so a PMU is present when any
probe shows one, and absent only when all three prove it. A counter that opens but counts
0 cycles is neither. Unset: the guest must see what QEMU's vCPU property ``pmu`` says.
"""

from __future__ import annotations

import re

from conformance.errors import GuestError
from conformance.live import GUEST, HOST, clip, expect
from conformance.live import qemu
from conformance.live.shell import key_values, sh, sh_ok, text

FEATURE = "pmu"
NO_EVENT_ERRNOS = ("ENOENT", "EOPNOTSUPP", "ENODEV")  # perf_event_open: no such hardware event
# arch/x86/events/core.c init_hw_perf_events: "... <name> PMU driver." or software events only
NO_PMU = re.compile(r"PMU not available|no PMU driver|Broken PMU|software events only")
PMU_DRIVER = re.compile(r"PMU driver\.?$")
ON, OFF = ("on", "true", "yes"), ("off", "false", "no")


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    return value.lower() in ON


def check_host(guest, pmu: bool | None) -> dict:
    """QEMU's -cpu ``pmu=`` and the vCPU's QOM ``pmu`` property match ``pmu``."""
    props = qemu.cpu_properties(qemu.guest_cmdline(guest))
    arg = _flag(props.get("pmu"))
    qom = qemu.qom_get(guest, qemu.cpu_qom_path(guest), "pmu")
    evidence = {"cpu": props, "qom_pmu": qom}
    expect(arg == pmu, FEATURE, HOST, "pmu= on QEMU's -cpu", pmu, arg, **evidence)
    if pmu is not None:
        expect(bool(qom) == pmu, FEATURE, HOST, "vCPU QOM property pmu", pmu, qom, **evidence)
    return evidence


def guest_kvm_reason(virt_type: str, why: str = "") -> str | None:
    """Why the guest level cannot run (None when it can); ``why``: why KVM is not used."""
    if virt_type != "kvm":
        return f"vPMU in-guest check needs KVM; accelerator is {accelerator_name(virt_type, why)}"
    return None


def accelerator_name(virt_type: str, why: str = "") -> str:
    name = "TCG" if virt_type == "qemu" else virt_type
    return f"{name} ({why})" if why else name


def cpuid_probe(guest) -> tuple[bool, dict]:
    """(leaf 0xA shows a PMU, evidence); GuestError when the leaf cannot be read."""
    leaves = key_values(sh_ok(guest, "cpuid"))
    try:
        max_leaf, version = int(leaves["max_basic_leaf"], 16), int(leaves["pmu_version"])
    except (KeyError, ValueError):
        raise GuestError(f"cpuid printed no max_basic_leaf/pmu_version: {clip(leaves)}") from None
    evidence = {"max_basic_leaf": hex(max_leaf), "pmu_version": version,
                "gp_counters": leaves.get("pmu_gp_counters")}
    if max_leaf < 0xA:
        raise GuestError(f"the vCPU's max basic CPUID leaf {max_leaf:#x} is below 0xA: "
                         f"leaf 0xA cannot show a PMU")
    return version > 0, evidence


def perf_probe(guest) -> tuple[bool | None, dict]:
    """(cycles counted > 0: True; no hardware event: False; opened but 0: None, evidence)."""
    probe = key_values(sh_ok(guest, "perfprobe"))
    cycles = probe.get("cycles", "")
    evidence = {"cycles": cycles, "instructions": probe.get("instructions")}
    if cycles.isdigit():
        return (True if int(cycles) > 0 else None), evidence
    errno = cycles.partition("errno=")[2]
    if cycles.startswith("unsupported") and errno in NO_EVENT_ERRNOS:
        return False, evidence
    raise GuestError(f"perfprobe could not tell whether a cycles counter exists: {clip(probe)}")


def kernel_probe(guest) -> tuple[bool, dict]:
    """(the kernel's "Performance Events:" line names a PMU driver, evidence)."""
    result = sh(guest, "dmesg")
    if result.rc != 0:
        raise GuestError(f"dmesg failed (rc={result.rc}): {clip(result.stderr)}")
    lines = [line.split("] ", 1)[-1].strip() for line in text(result.stdout).splitlines()
             if "Performance Events:" in line]
    if not lines:
        raise GuestError("the kernel log has no 'Performance Events:' line "
                         f"({len(text(result.stdout).splitlines())} lines read)")
    line = lines[0]
    if NO_PMU.search(line):
        return False, {"line": line}
    if PMU_DRIVER.search(line):
        return True, {"line": line}
    raise GuestError(f"unrecognised kernel PMU line: {clip(line)}")


def check_guest(guest, pmu: bool | None) -> dict:
    """The guest sees a PMU iff ``pmu`` (None: iff QEMU's vCPU property ``pmu`` is on)."""
    readings = {"cpuid": cpuid_probe(guest), "perf": perf_probe(guest),
                "kernel": kernel_probe(guest)}
    if pmu is None:
        want, source = bool(qemu.qom_get(guest, qemu.cpu_qom_path(guest), "pmu")), "QEMU vCPU pmu"
    else:
        want, source = pmu, "request"
    evidence = {"expected_from": source, "probes": {k: v[1] for k, v in readings.items()}}
    shows = {name: seen for name, (seen, _) in readings.items()}
    expect(shows["perf"] is not None, FEATURE, GUEST, "perf cycles counter opened but counted 0",
           "> 0 cycles, or no hardware counter", 0, **evidence)
    showing = sorted(name for name, seen in shows.items() if seen)
    if want:
        expect(bool(showing), FEATURE, GUEST, "no probe shows a PMU",
               "CPUID 0xA version > 0, counting cycles or a kernel PMU driver", "none", **evidence)
    else:
        expect(not showing, FEATURE, GUEST, "a probe shows a PMU although none is expected",
               "no PMU in any probe", showing, **evidence)
    evidence["showing"] = showing
    return evidence
