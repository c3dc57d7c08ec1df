"""Pinning and realtime, level 1 (realtime guests are the locked_memory feature's implicit
case): a dedicated instance pins every vCPU to one distinct CPU of the host's
``cpu_dedicated_set`` (``<cputune><vcpupin>``); a realtime one also schedules exactly its
realtime vCPUs SCHED_FIFO at the expected priority (``<vcpusched scheduler='fifo'>``) and
does not share its pages (``<memoryBacking><nosharepages/>``). Neither otherwise."""

from __future__ import annotations

from lxml import etree

from conformance.checks.finding import Finding, count_finding, excerpt
from conformance.contract import Rejected, Request
from conformance.reference import Features
from conformance.reference.cpu_policy import parse_cpu_spec

REALTIME_SCHEDULERS = ("fifo", "rr")


def _cpus(text: str | None) -> set[int] | None:
    try:
        return parse_cpu_spec(text or "")
    except Rejected:
        return None


def _pinning(expected: Features, dom, request: Request) -> list[Finding]:
    pins = dom.findall("cputune/vcpupin")
    context = dom.find("cputune") if dom.find("cputune") is not None else dom.find("vcpu")
    if expected.pinning is None:
        return count_finding("pinning.absent", "<vcpupin> elements", pins, 0, context)
    host = parse_cpu_spec(request.host.cpu_dedicated_set or "")
    wanted = {str(v) for v in range(len(expected.pinning))}
    got = {pin.get("vcpu"): _cpus(pin.get("cpuset")) for pin in pins}
    chosen = [next(iter(c)) for c in got.values() if c is not None and len(c) == 1]
    if set(got) != wanted or len(chosen) != len(pins) or len(set(chosen)) != len(chosen) \
            or not set(chosen) <= host:
        return [Finding("pinning.vcpupin", f"vCPUs {sorted(wanted)} each pinned to one distinct "
                        f"CPU of cpu_dedicated_set {request.host.cpu_dedicated_set!r}",
                        f"{ {k: sorted(v) if v is not None else None for k, v in got.items()} }",
                        excerpt(pins or context))]
    return []


def _realtime(expected: Features, dom) -> list[Finding]:
    scheds = [s for s in dom.findall("cputune/vcpusched") if s.get("scheduler") in REALTIME_SCHEDULERS]
    unshared = dom.findall("memoryBacking/nosharepages")
    context = dom.find("cputune") if dom.find("cputune") is not None else dom.find("vcpu")
    if expected.realtime is None:
        return count_finding("realtime.absent", "realtime <vcpusched> elements", scheds, 0, context)
    findings = count_finding("realtime.nosharepages", "<memoryBacking><nosharepages/>", unshared, 1,
                             dom.find("memoryBacking") if dom.find("memoryBacking") is not None
                             else dom.find("memory"))
    covered = [_cpus(s.get("vcpus")) for s in scheds]
    vcpus = set().union(*[c for c in covered if c]) if covered else set()
    wanted = set(expected.realtime.vcpus)
    wrong = [s for s in scheds if s.get("scheduler") != "fifo"
             or s.get("priority") != str(expected.realtime.priority)]
    if vcpus != wanted or wrong or None in covered:
        findings.append(Finding("realtime.vcpusched", f"vCPUs {sorted(wanted)} scheduler='fifo' "
                                f"priority='{expected.realtime.priority}'",
                                f"vCPUs {sorted(vcpus)} in {len(scheds)} realtime <vcpusched>",
                                excerpt(scheds or context)))
    return findings


def check_xml(expected: Features, dom: etree._Element, request: Request) -> list[Finding]:
    return _pinning(expected, dom, request) + _realtime(expected, dom)
