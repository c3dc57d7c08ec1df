"""The fleet report: one certification run on several hosts, joined (``kind: "fleet"``).

Built from the hosts' own finished reports (each a complete single-host report in
``hosts/<label>/``): per host its accelerator, capabilities, versions, summary,
certification and matrix; the case x host verdicts; where the hosts differ; and the fleet
verdict, certified only when every host is, at the shallowest level the hosts reached.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.host import versions
from conformance.report.headline import needs

LEVEL_RANK = {"none": 0, "xml-only": 1, "host": 2, "full": 3}
STATUSES = ("pass", "flaky", "fail", "error", "skip", "not-run")
MiB = 1024 * 1024


def host_entry(label: str, uri: str, report: dict, path: str, workers: int,
               blocker: str | None = None) -> dict:
    """One host of the fleet, from its finished single-host ``report`` (at ``path``)."""
    host, cert = report["host"], report["certification"]
    caps = host.get("capabilities") or {}
    return {
        "label": label, "uri": uri, "accelerator": host["accelerator"],
        "accelerator_reason": host["accelerator_reason"], "capabilities": caps,
        "versions": {"libvirt": caps.get("libvirt_version"), "qemu": caps.get("qemu_version")},
        "workers": workers, "problem": blocker, "summary": report["summary"],
        "certification": {k: cert[k] for k in ("verdict", "level", "headline", "problem",
                                               "interrupted", "skipped")},
        "matrix": report["matrix"], "report": path, "report_digest": report["digest"],
    }


def case_rows(reports: dict[str, dict]) -> list[dict]:
    """Case x host: per case (catalogue order) each host that ran it, its verdict, level
    reached and first reason line. ``reports``: label -> host report."""
    from conformance.catalogue import ALL_CASES
    order = {case.id: index for index, case in enumerate(ALL_CASES)}
    rows: dict[str, dict] = {}
    for label, report in reports.items():
        for case in report["cases"]:
            row = rows.setdefault(case["id"], {
                "id": case["id"], "feature": case["feature"], "name": case["name"],
                "operation": case.get("operation", "create"), "hosts": {}})
            reason = case["reason"].splitlines()[0][:300] if case["reason"] else ""
            found = row["hosts"][label] = {"verdict": case["verdict"], "level_reached": case["level_reached"],
                                           "reason": reason}
            kept = [f"hosts/{label}/{a['path']}" for a in case.get("artifacts") or [] if "path" in a]
            if kept:  # the host's artefacts, relative to the fleet report
                found["artifacts"] = kept
            if case.get("attempts"):
                found["attempts"] = len(case["attempts"])
    return sorted(rows.values(), key=lambda row: (order.get(row["id"], len(order)), row["id"]))


def _size(value) -> str:
    if value is None:
        return "unlimited"
    return f"{value // MiB} MiB" if value % MiB == 0 else f"{value} bytes"


def _memlock(caps: dict, uri: str) -> str:
    """The locked-memory limits that count: libvirtd's; this process's only for a local URI
    (a remote host without a measured libvirtd is unknown)."""
    proc = caps.get("libvirtd") or (caps.get("harness") if not urlsplit(uri).hostname else None)
    if not proc:
        return "unknown"
    return (f"{proc.get('name', 'libvirtd')}: RLIMIT_MEMLOCK hard {_size(proc.get('memlock_hard'))}, "
            f"CAP_SYS_RESOURCE {'yes' if proc.get('cap_sys_resource') else 'no'}")


def _facts(host: dict) -> dict[tuple[str, str], str]:
    """(kind, what) -> value of the facts compared between hosts."""
    caps = host["capabilities"]
    known = "error" not in caps
    skips = needs(host["certification"]["skipped"])

    def fact(key: str) -> str:
        return str(caps.get(key)) if known and caps.get(key) is not None else "unknown"

    return {
        ("accelerator", "accelerator"): host["accelerator"],
        ("capability", "locked memory"): _memlock(caps, host["uri"]) if known else "unknown",
        ("capability", "/dev/kvm"): fact("kvm_device"),
        ("capability", "host PMU"): fact("host_pmu"),
        ("version", "libvirt"): fact("libvirt_version"),
        ("version", "QEMU"): fact("qemu_version"),
        ("skip", "skipped checks"): ", ".join(f"{count} {need}" for need, count in skips) or "none",
    }


def differences(hosts: list[dict], cases: list[dict]) -> list[dict]:
    """Where hosts differ: accelerator, capabilities, versions, skip reasons, then every case
    whose verdict or level reached is not the same on every host that ran it (not-run
    results are left out); each with ``explained``: why it is not the driver's (a host fact
    or a version rule), or None."""
    found = []
    if len(hosts) > 1:
        facts = {host["label"]: _facts(host) for host in hosts}
        for key in facts[hosts[0]["label"]]:
            values = {label: values[key] for label, values in facts.items()}
            if len(set(values.values())) > 1:
                found.append({"kind": key[0], "what": key[1], "hosts": values})
    for case in cases:  # a case not run (stopped run) on a host tells nothing about that host
        seen = {label: f"{v['verdict']}, level {v['level_reached']}" for label, v in case["hosts"].items()
                if v["verdict"] != "not-run"}
        if len(seen) > 1 and len(set(seen.values())) > 1:
            found.append({"kind": "case", "what": f"{case['feature']}/{case['name']}", "id": case["id"],
                          "feature": case["feature"], "hosts": seen})
    for difference in found:  # why each is not the driver's, or None (conformance.host.versions)
        difference["explained"] = versions.explain(difference, hosts)
    return found


def _host_short(host: dict) -> str:
    cert = host["certification"]
    if cert["verdict"] == "certified":
        return f"{host['label']} level {cert['level']}"
    summary = host["summary"]
    failed = summary["fail"] + summary["error"]
    flaky = f"{summary.get('flaky', 0)} flaky (passed only on a rerun)" if summary.get("flaky") else ""
    why = cert["problem"] or ", ".join(filter(None, [
        f"{failed} of {summary['total']} cases failed or errored" if failed or not flaky else "", flaky]))
    return f"{host['label']} {cert['verdict'].upper()}: {why}"


def certification(hosts: list[dict], cases: list[dict], mode: str, interrupted: dict | None) -> dict:
    """The fleet verdict: interrupted if stopped, certified only if every host is (at the
    shallowest level reached), else not certified; and its one-line headline."""
    certified = [h for h in hosts if h["certification"]["verdict"] == "certified"]
    scope = (f"{len(cases)} cases sharded across {len(hosts)} hosts" if mode == "shard"
             else f"{len(cases)} cases on each of {len(hosts)} hosts")
    problem = None
    if interrupted:
        verdict, level = "interrupted", "none"
        done = ", ".join(f"{h['label']} {h['summary']['pass']}/{h['summary']['total']} passed" for h in hosts)
        headline = (f"FLEET INTERRUPTED by {interrupted['signal']} after {interrupted['after_seconds']} s: "
                    f"no certification verdict; finished before the stop: {done}; {scope}")
    elif len(certified) == len(hosts):
        verdict = "certified"
        level = min((h["certification"]["level"] for h in hosts), key=LEVEL_RANK.__getitem__)
        headline = (f"FLEET CERTIFIED, level {level}: {len(hosts)}/{len(hosts)} hosts certified "
                    f"({'; '.join(_host_short(h) for h in hosts)}); {scope}")
    else:
        verdict, level = "not certified", "none"
        failing = [h for h in hosts if h not in certified]
        problem = "; ".join(_host_short(h) for h in failing)
        headline = (f"FLEET NOT CERTIFIED: {len(certified)}/{len(hosts)} hosts certified "
                    f"({'; '.join(_host_short(h) for h in hosts)}); {scope}")
    return {"verdict": verdict, "level": level, "headline": headline, "interrupted": interrupted,
            "problem": problem, "hosts": {h["label"]: h["certification"]["verdict"] for h in hosts}}


def build(driver: str, mode: str, selection: dict, hosts: list[dict], reports: dict[str, dict],
          interrupted: dict | None, started: str, finished: str, wall_seconds: float,
          versions: dict) -> dict:
    """The fleet report.json body (without digest) from the host entries and reports."""
    cases = case_rows(reports)
    cert = certification(hosts, cases, mode, interrupted)
    summary = {status: sum(1 for c in cases for v in c["hosts"].values() if v["verdict"] == status)
               for status in STATUSES}
    summary.update(hosts=len(hosts), certified_hosts=sum(v == "certified" for v in cert["hosts"].values()),
                   cases=len(cases), runs=sum(len(c["hosts"]) for c in cases), mode=mode,
                   verdict=cert["verdict"], certification_level=cert["level"], headline=cert["headline"])
    return {"format": 1, "kind": "fleet", "driver": driver, "mode": mode, "started": started,
            "finished": finished, "wall_seconds": wall_seconds, "selection": selection,
            "versions": versions, "hosts": hosts, "summary": summary, "certification": cert,
            "differences": differences(hosts, cases), "cases": cases}
