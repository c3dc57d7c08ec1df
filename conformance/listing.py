"""``conformance list``: every case with id, feature, operation, name, levels, and what this host
can run. An accepted lifecycle case (operation other than create) is verified live on a guest
that boots its "before" domain and then its "after" one (conformance.live.lifecycle)."""

from __future__ import annotations

import json


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list")
    parser.add_argument("--feature", action="append", default=[], help="only this feature")


def _host_levels() -> dict[str, str]:
    """Level -> "yes" or why not, from cached facts (no probe boot is started here)."""
    import os

    from conformance.host.accel import cached_local_choice
    levels = {"xml": "yes"}
    if not os.path.exists("/run/libvirt/libvirt-sock"):
        levels["host"] = levels["guest"] = "no: libvirtd is not running"
        return levels
    levels["host"] = levels["guest"] = "yes"
    virt_type = cached_local_choice()
    if virt_type != "kvm":
        levels["guest-kvm-only"] = ("no: accelerator is TCG (cached KVM probe)" if virt_type
                                    else "unknown: run `conformance host-check` to probe KVM")
    return levels


def _locked_memory_blocker() -> str | None:
    """Why a locked-memory guest cannot boot here (measured limits), None if it can."""
    try:
        from conformance.host.capabilities import locked_memory_blocker, probe
        return locked_memory_blocker(probe(), 256 * 1024 * 1024)
    except Exception as exc:  # noqa: BLE001 - the listing degrades, it never fails
        return f"unknown ({exc})"


def _sev_blocker() -> str | None:
    """Why a memory-encrypted guest cannot boot here (the host's AMD SEV), None if it can."""
    try:
        from conformance.host.capabilities import probe, sev_blocker
        return sev_blocker(probe())
    except Exception as exc:  # noqa: BLE001 - the listing degrades, it never fails
        return f"unknown ({exc})"


def _short(answer: str) -> str:
    return answer.split(":", 1)[0]  # "yes", "no", "n/a", "unknown"; --json has the reasons


def run(args) -> int:
    from conformance.catalogue import ALL_CASES
    from conformance.catalogue.expected import expected_outcome
    from conformance.live.operations import live_blocker

    host = _host_levels()
    blocker, sev = _locked_memory_blocker(), _sev_blocker()
    rows = []
    for case in ALL_CASES:
        if args.feature and case.feature not in args.feature:
            continue
        expected = expected_outcome(case.request())
        accepted = expected.accepted
        levels = ["xml", "host", "guest"] if accepted else ["xml"]
        runnable = {lvl: host[lvl] for lvl in levels}
        locked = accepted and (expected.features.locked_memory or (
            case.lifecycle and expected_outcome(case.before_request()).features.locked_memory))
        if "guest" in runnable and case.feature in ("pmu", "hidden_hypervisor") and "guest-kvm-only" in host:
            runnable["guest"] = host["guest-kvm-only"]
        if locked and blocker and runnable.get("host") == "yes":
            runnable["host"] = f"no: {blocker}"  # the guest cannot boot at all
        encrypted = accepted and (expected.features.mem_encryption or (
            case.lifecycle and expected_outcome(case.before_request()).features.mem_encryption))
        if encrypted and sev:
            runnable = {lvl: (v if lvl == "xml" else f"no: {sev}") for lvl, v in runnable.items()}
        if case.feature == "locked_memory" and "guest" in runnable:
            runnable["guest"] = "n/a: locked memory has no guest-visible effect"
        not_live = live_blocker(case.operation)
        if not_live and accepted:
            runnable.update(host=f"no: {not_live}", guest=f"no: {not_live}")
        rows.append({"id": case.id, "feature": case.feature, "operation": case.operation,
                     "name": case.name, "levels": levels, "here": runnable})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    for row in rows:
        here = ", ".join(f"{lvl}={_short(v)}" for lvl, v in row["here"].items())
        print(f"{row['id']}  {row['feature']:<17} {row['operation']:<10} {row['name']:<40} {here}")
    print(f"{len(rows)} cases")
    return 0
