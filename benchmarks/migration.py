"""Benchmark: seconds of one live migration and one cold migration between this machine's
libvirt and a namespace test host, under the accelerator this host runs.

    flock /tmp/cfm-guests.lock .venv/bin/python benchmarks/migration.py [--runs 3]

Starts one namespace test host (tests/support/testhosts.py, over qemu+ssh) and stops it at
the end. Per run and direction (local -> namespace host, namespace host -> local): a fresh
minimal guest (256 MiB, agent) boots on the source; then the harness's own performers
(conformance.live.migration) move it: ``live_migrate`` (sandbox of the destination XML +
libvirt's migration, until the call returns; then the seconds until the agent answers on
the destination, and whether the boot id stayed), and on another fresh guest
``cold_migrate`` (power off, define and start on the destination, until the agent answers).
Each lab's peer lab is opened (the image uploaded there) before timing. Last: medians per
operation and direction, and the load average. Every guest is destroyed.
"""
import argparse
import json
import os
import statistics
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))  # the namespace test hosts: tests/support/


def boot(lab, image, virt_type):
    from conformance.lab.domain import minimal_domain
    name, instance_uuid = f"instance-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    placement = lab.placement(image.boot, slug="bench-mig", instance_name=name,
                              loader=image.loader, instance_uuid=instance_uuid)
    xml = minimal_domain(name, instance_uuid, image.boot, virt_type)
    guest = lab.start(xml, placement)
    guest.wait_for_boot(120)
    guest.wait_for_agent(60)
    return guest, placement, xml


def boot_id(guest) -> str:
    return guest.shell("cat /proc/sys/kernel/random/boot_id").text.strip()


def one(lab, image, virt_type, operation) -> dict:
    from conformance.live import migration
    guest, placement, xml = boot(lab, image, virt_type)
    try:
        before = boot_id(guest)
        started = time.monotonic()
        getattr(migration, operation)(lab, guest, placement, xml, operation)
        moved = time.monotonic() - started
        guest.wait_for_agent(120)
        answered = time.monotonic() - started
        return {"operation": operation, "call_s": round(moved, 2), "agent_s": round(answered, 2),
                "same_boot": boot_id(guest) == before, "now_on": guest.uri}
    finally:
        guest.destroy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from conformance.host.accel import choose
    from conformance.lab.image import load_image
    from conformance.lab.lab import Lab
    from conformance.live import peers
    from support.testhosts import NamespaceHost, free_index
    host = NamespaceHost(free_index()).start()
    uris = ["qemu:///system", host.ssh_uri]
    os.environ[peers.RUN_HOSTS_ENV] = json.dumps(uris)
    labs, rows = [], []
    try:
        image = load_image()
        for uri in uris:
            labs.append(Lab(uri))
        virt_type = choose(labs[0], image, "auto").virt_type
        images = [lab.host_image(image) for lab in labs]
        for lab in labs:
            lab.virt_type = virt_type
            peers.peer_lab(lab)  # opened (image uploaded) before timing, as on a second pair
        for run in range(args.runs):
            for lab, seen in zip(labs, images):
                for operation in ("live_migrate", "cold_migrate"):
                    row = {"run": run + 1, "from": lab.uri.split("?")[0],
                           **one(lab, seen, virt_type, operation), "load": os.getloadavg()[0]}
                    row["now_on"] = row["now_on"].split("?")[0]
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    finally:
        for lab in labs:
            peers.close_peers(lab)
            lab.close()
        host.stop()
    print(f"accelerator {virt_type}")
    for operation in ("live_migrate", "cold_migrate"):
        for source in uris:
            mine = [r for r in rows if r["operation"] == operation and r["from"] == source.split("?")[0]]
            if mine:
                print(f"{operation} from {source.split('?')[0]}: call median "
                      f"{statistics.median(r['call_s'] for r in mine):.2f} s, to agent median "
                      f"{statistics.median(r['agent_s'] for r in mine):.2f} s (n={len(mine)}); "
                      f"boot id kept {sum(r['same_boot'] for r in mine)}/{len(mine)}")
    print(f"load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
