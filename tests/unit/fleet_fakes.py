"""Fake host reports and fleets shared by the fleet unit tests (no libvirt)."""

from conformance.report import fleet, fleet_writers, writers
from conformance.report.aggregate import aggregate
from report_fakes import CASE, OTHER, entry, report_of

MiB = 1024 * 1024


def caps(memlock_hard=None, cap=False, libvirt="9.0.0", qemu="7.2.0") -> dict:
    daemon = {"pid": 1, "name": "libvirtd", "memlock_soft": memlock_hard, "memlock_hard": memlock_hard,
              "cap_sys_resource": cap}
    return {"harness": dict(daemon, name="harness"), "libvirtd": daemon, "kvm_device": "rw",
            "host_pmu": True, "host_pmu_detail": "", "hugepages": {}, "libvirt_version": libvirt,
            "qemu_version": qemu}


def host_report(results, accelerator="kvm", reason="KVM works", capabilities=None, uri="qemu:///system",
                label="h1", problem=None, interrupted=None) -> dict:
    """A finished single-host report as a fleet host writes it."""
    report = report_of(results, reason=reason, problem=problem, interrupted=interrupted)
    report.pop("digest")
    report["host"].update(accelerator=accelerator, libvirt_uri=uri, label=label,
                          capabilities=capabilities if capabilities is not None else caps())
    return writers.finish(report)


def kvm_results():
    return aggregate([entry("xml"), entry("host"), entry("guest"),
                      entry("xml", cases=(OTHER.id,)), entry("host", cases=(OTHER.id,)),
                      entry("guest", cases=(OTHER.id,))], [CASE, OTHER])


def tcg_results():
    """OTHER's guest level skipped (needs KVM): certified at level host only."""
    return aggregate([entry("xml"), entry("host"), entry("guest"),
                      entry("xml", cases=(OTHER.id,)), entry("host", cases=(OTHER.id,)),
                      entry("guest", "skipped", when="setup", cases=(OTHER.id,),
                            detail="needs KVM; accelerator is TCG")], [CASE, OTHER])


def fleet_of(reports: dict, mode="replicate", interrupted=None, blockers=None) -> dict:
    """A finished fleet report around ``reports`` (label -> host report)."""
    blockers = blockers or {}
    hosts = [fleet.host_entry(label, r["host"]["libvirt_uri"], r, f"hosts/{label}/report.json", 1,
                              blockers.get(label))
             for label, r in reports.items()]
    body = fleet.build("reference", mode, {}, hosts, reports, interrupted, "s", "f", 1.0, {})
    return fleet_writers.finish(body)


def two_hosts() -> dict:
    """h1: KVM, unlimited memlock, libvirt 9.0.0; h2: TCG, 8 MiB memlock, libvirt 10.0.0."""
    return {"h1": host_report(kvm_results()),
            "h2": host_report(tcg_results(), "qemu", "no /dev/kvm", caps(8 * MiB, libvirt="10.0.0"),
                              "qemu+tcp://10.251.2.2/system", "h2")}
