"""What differs between libvirt and QEMU releases: the one home of version rules.

A certification judges the driver, so a behaviour that comes from the host's release, not
from the domain the driver asked for, must not count for or against it, and where hosts of
different releases are compared (a fleet report) each such difference is named with its
rule. Rules are data: which component, from which version, what it does, and the upstream
change that says so. :func:`implicit_devices` gives the devices libvirt adds by itself to a
defined domain (the live checks judge the driver on what it asked for, not on these);
:func:`explain` names why a fleet difference is not the driver's (docs/releases.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class VersionRule:
    id: str
    component: str  # "libvirt" or "qemu"
    since: tuple[int, ...]
    what: str
    source: str
    feature: str  # the feature whose verdicts the behaviour can change
    machine: str | None = None  # only for domains of this machine type (a substring: "q35")


RULES = [
    VersionRule("implicit-itco", "libvirt", (9, 1),
                "a q35 domain gets an implicit <watchdog model='itco'> (action copied from the first "
                "watchdog, else reset) beside the watchdogs the domain asked for",
                "libvirt 9.1.0 NEWS, commit 'qemu: Add implicit watchdog for q35 domains'",
                "watchdog", "q35"),
]
RULES_BY_ID = {rule.id: rule for rule in RULES}


def parse(version: str | None) -> tuple[int, ...] | None:
    """(major, minor, micro) of '11.3.0' or 'QEMU 10.0.13 (Debian ...)'; None if unknown."""
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", version or "")
    return tuple(int(part or 0) for part in found.groups()) if found else None


def applies(rule: VersionRule, versions: dict[str, str | None]) -> bool:
    """True when the host with ``versions`` ({"libvirt": ..., "qemu": ...}) has the rule's
    behaviour; unknown versions are taken as not having it."""
    have = parse(versions.get(rule.component))
    return have is not None and have[:len(rule.since)] >= rule.since


def implicit_devices(libvirt_version: str | None, machine: str | None) -> list[tuple[str, str]]:
    """(element, model) of the devices libvirt adds by itself to a domain of ``machine``."""
    found = []
    if machine and "q35" in machine and applies(RULES_BY_ID["implicit-itco"], {"libvirt": libvirt_version}):
        found.append(("watchdog", "itco"))
    return found


def explain(difference: dict, hosts: list[dict]) -> str | None:
    """Why a fleet difference (conformance.report.fleet.differences) is not the driver's, or
    None when nothing explains it (then it is the harness's or the driver's to answer for).
    Host facts explain themselves: versions, the accelerator (the probe's reason on each
    host), measured capabilities and the skips they cause (every skip names the missing
    capability). A case whose verdict differs is explained only by a version rule that
    names its feature's behaviour and holds on some of the hosts only."""
    kind = difference["kind"]
    if kind == "version":
        return "the hosts run different releases"
    if kind == "accelerator":
        return "; ".join(f"{h['label']}: {h['accelerator_reason']}" for h in hosts)
    if kind in ("capability", "skip"):
        return "measured on each host: a host capability, not the driver's behaviour"
    if (_case(difference.get("id"), "operation") == "live_migrate"
            and len({h["versions"].get("qemu") for h in hosts}) > 1):
        return ("a live migration goes to the run's next host; from the host with the newer "
                "QEMU to the older one it is skipped, as Nova refuses it "
                "(DestinationHypervisorTooOld)")
    machine = case_machine(difference.get("id"))
    rules = [rule for rule in RULES if difference.get("feature") == rule.feature
             and (rule.machine is None or rule.machine in (machine or ""))
             and len({applies(rule, h["versions"]) for h in hosts}) > 1]
    return "; ".join(f"version rule {rule.id}: {rule.component} >= "
                     f"{'.'.join(map(str, rule.since))}: {rule.what}" for rule in rules) or None


def _case(case_id: str | None, field: str):
    from conformance.catalogue import ALL_CASES
    return next((getattr(c, field) for c in ALL_CASES if c.id == case_id), None)


def case_machine(case_id: str | None) -> str | None:
    """The machine type a catalogue case asks for (image property, else host setting)."""
    from conformance.catalogue import ALL_CASES
    for case in ALL_CASES:
        if case.id == case_id:
            return case.image_properties.get("hw_machine_type") or case.host.get("hw_machine_type")
    return None
