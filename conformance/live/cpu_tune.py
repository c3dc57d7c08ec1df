"""Pinning and realtime, live (host level): what the kernel gives QEMU's vCPU threads.

Realtime guests are the locked_memory feature's implicit case, so this runs inside its host
check. A pinned instance's vCPU threads (QMP ``query-cpus-fast``) may each run on exactly one
CPU, distinct per vCPU (``Cpus_allowed_list`` of /proc/PID/task/TID/status). A realtime instance's realtime vCPU threads are
SCHED_FIFO at the expected priority and the others SCHED_OTHER (policy and rt_priority,
fields 41 and 40 of /proc/PID/task/TID/stat, proc(5)). Realtime guests lock their memory, so
hosts that cannot lock it skip before booting (:mod:`conformance.live.locked_memory`).
"""

from __future__ import annotations

from conformance.errors import HarnessError
from conformance.live import HOST, expect
from conformance.live.qemu import _proc
from conformance.reference.cpu_policy import parse_cpu_spec

FEATURE = "locked_memory"
SCHED_OTHER, SCHED_FIFO = 0, 1
POLICY_NAMES = {0: "SCHED_OTHER", 1: "SCHED_FIFO", 2: "SCHED_RR", 3: "SCHED_BATCH",
                5: "SCHED_IDLE", 6: "SCHED_DEADLINE"}


def vcpu_threads(guest) -> dict[int, int]:
    """{vCPU index: host thread id} from QMP."""
    return {cpu["cpu-index"]: cpu["thread-id"] for cpu in guest.qmp("query-cpus-fast")}


def thread_sched(pid: int, tid: int, host=None) -> tuple[int, int]:
    """(policy, rt_priority) of one thread of ``pid``."""
    stat = _proc(pid, f"task/{tid}/stat", host).decode(errors="replace")
    fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on
    try:
        return int(fields[41 - 3]), int(fields[40 - 3])
    except (IndexError, ValueError):
        raise HarnessError(f"/proc/{pid}/task/{tid}/stat has no policy field: {stat[:200]!r}")


def thread_cpus(pid: int, tid: int, host=None) -> frozenset[int]:
    """The CPUs one thread of ``pid`` may run on."""
    status = _proc(pid, f"task/{tid}/status", host).decode(errors="replace")
    for line in status.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return frozenset(parse_cpu_spec(line.split(":", 1)[1].strip()))
    raise HarnessError(f"/proc/{pid}/task/{tid}/status has no Cpus_allowed_list")


def check_host(guest, features) -> dict:
    """vCPU threads pinned and scheduled as ``features`` (pinning, realtime) say; {} when
    the instance is neither pinned nor realtime."""
    if features.pinning is None and features.realtime is None:
        return {}
    host = getattr(guest, "host", None)
    threads = vcpu_threads(guest)
    cpus = {v: sorted(thread_cpus(guest.pid, t, host)) for v, t in threads.items()}
    sched = {v: thread_sched(guest.pid, t, host) for v, t in threads.items()}
    evidence = {"vcpu_threads": threads, "cpus_allowed": cpus,
                "policy": {v: POLICY_NAMES.get(p, str(p)) for v, (p, _) in sched.items()},
                "rt_priority": {v: prio for v, (_, prio) in sched.items()}}
    if features.pinning is not None:
        chosen = [c[0] for c in cpus.values() if len(c) == 1]
        expect(len(threads) == len(features.pinning) and len(chosen) == len(threads)
               and len(set(chosen)) == len(chosen), FEATURE, HOST,
               "vCPU threads each pinned to one distinct host CPU",
               f"{len(features.pinning)} vCPUs on one CPU each", cpus, **evidence)
    if features.realtime is not None:
        want = {v: (SCHED_FIFO, features.realtime.priority) if v in features.realtime.vcpus
                else (SCHED_OTHER, 0) for v in threads}
        got = {v: sched[v] for v in threads}
        expect(got == want, FEATURE, HOST, "vCPU threads' scheduling policy and priority",
               {v: f"{POLICY_NAMES[p]}/{prio}" for v, (p, prio) in want.items()},
               {v: f"{POLICY_NAMES.get(p, p)}/{prio}" for v, (p, prio) in got.items()},
               **evidence)
    return evidence
