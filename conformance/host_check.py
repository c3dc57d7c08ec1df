"""``conformance host-check``: what this host supports for each level, and why."""

from __future__ import annotations

import json

from conformance.lab.connection import DEFAULT_URI


def add_arguments(parser) -> None:
    parser.add_argument("--libvirt-uri", default=DEFAULT_URI)
    parser.add_argument("--accel", choices=("auto", "kvm", "qemu"), default="auto")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def facts(uri: str, accel: str) -> dict:
    """What the libvirt host of ``uri`` (local or remote) supports, measured there."""
    from conformance.run.prepare import accelerator
    from conformance.host.capabilities import locked_memory_blocker, probe
    from conformance.lab.connection import open_connection
    from conformance.lab.host import host_access

    virt_type, reason = accelerator(uri, accel)
    try:
        conn, host = open_connection(uri), host_access(uri)
        try:
            measured = probe(conn, host)
        finally:
            host.close()
            conn.close()
        caps = measured.to_dict()
        blocker = locked_memory_blocker(measured, 256 * 1024 * 1024)
    except Exception as exc:  # noqa: BLE001 - facts are informative, never fatal
        caps, blocker = {"error": str(exc)}, f"unknown: {exc}"
    return {"accelerator": virt_type, "accelerator_reason": reason,
            "locked_memory_guest": "possible" if blocker is None else f"impossible: {blocker}",
            "guest_pmu_and_cpuid_checks": "possible" if virt_type == "kvm"
            else f"impossible: need KVM, accelerator is {virt_type}",
            "capabilities": caps}


def run(args) -> int:
    data = facts(args.libvirt_uri, args.accel)
    if args.json:
        print(json.dumps(data, indent=1, default=str))
        return 0
    caps = data.pop("capabilities")
    for key, value in data.items():
        print(f"{key}: {value}")
    for key, value in caps.items():
        print(f"{key}: {value}")
    return 0
