"""``conformance list``: every case with id, feature, name, levels, and what this host can run."""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--feature", action="append", default=[], help="only this feature")


def _host_levels() -> dict[str, str]:
    """Level -> "yes" or why not, from cached facts (no probe boot is started here)."""
    import os

    from conformance.host.accel import CACHE_FILE
    levels = {"xml": "yes"}
    if not os.path.exists("/run/libvirt/libvirt-sock"):
        levels["host"] = levels["guest"] = "no: libvirtd is not running"
        return levels
    levels["host"] = levels["guest"] = "yes"
    try:
        virt_type = json.loads(CACHE_FILE.read_text())["virt_type"]
    except (OSError, ValueError, KeyError):
        virt_type = None
    if virt_type != "kvm":
        levels["guest-kvm-only"] = ("no: accelerator is TCG (cached KVM probe)" if virt_type
                                    else "unknown: run `conformance host-check` to probe KVM")
    return levels


def run(args) -> int:
    from conformance.catalogue import CASES
    from conformance.catalogue.expected import expected_outcome

    host = _host_levels()
    rows = []
    for case in CASES:
        if args.feature and case.feature not in args.feature:
            continue
        accepted = expected_outcome(case.request()).accepted
        levels = ["xml", "host", "guest"] if accepted else ["xml"]
        runnable = {lvl: host[lvl] for lvl in levels}
        if "guest" in runnable and case.feature in ("pmu", "hidden_hypervisor") and "guest-kvm-only" in host:
            runnable["guest"] = host["guest-kvm-only"]
        if case.feature == "locked_memory" and "guest" in runnable:
            runnable["guest"] = "n/a: locked memory has no guest-visible effect"
        rows.append({"id": case.id, "feature": case.feature, "name": case.name,
                     "levels": levels, "here": runnable})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        here = ", ".join(f"{lvl}={'yes' if v == 'yes' else 'no'}" for lvl, v in row["here"].items())
        print(f"{row['id']}  {row['feature']:<17} {row['name']:<40} {here}")
    print(f"{len(rows)} cases")
    return 0
