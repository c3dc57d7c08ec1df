"""Unit tests of the pinning/realtime host check: vCPU threads' affinity and scheduling."""

import os

import pytest

from conformance.live import LiveCheckFailed, cpu_tune, qemu
from conformance.live.fakes import FakeGuest
from conformance.live.plan import HOST_CHECKS
from conformance.reference.features import Features, Realtime

PID = 4242


def stat_line(tid, policy, priority):
    """A /proc/PID/task/TID/stat line: fields 3.. with rt_priority (40) and policy (41)."""
    fields = ["S"] + ["0"] * 36 + [str(priority), str(policy)] + ["0"] * 11
    return f"{tid} (CPU 0/TCG) " + " ".join(fields) + "\n"


@pytest.fixture
def threads(tmp_path, monkeypatch):
    """Write the fake QEMU's vCPU threads: {tid: (cpus_allowed_list, policy, priority)}."""
    monkeypatch.setattr(qemu, "PROC", str(tmp_path))

    def write(table):
        for tid, (cpus, policy, priority) in table.items():
            base = tmp_path / str(PID) / "task" / str(tid)
            os.makedirs(base, exist_ok=True)
            (base / "stat").write_text(stat_line(tid, policy, priority))
            (base / "status").write_text(f"Name:\tCPU 0/TCG\nCpus_allowed_list:\t{cpus}\n")
        return FakeGuest(pid=PID, vcpu_threads=list(table))
    return write


PINNED = Features(locked_memory=False, pinning=(0, 1))
REALTIME = Features(locked_memory=True, pinning=(0, 1), realtime=Realtime(frozenset({1}), 1))


def test_floating_instance_is_not_judged(threads):
    assert cpu_tune.check_host(threads({11: ("0-1", 0, 0)}), Features()) == {}


def test_pinned_threads_pass(threads):
    evidence = cpu_tune.check_host(threads({11: ("0", 0, 0), 12: ("1", 0, 0)}), PINNED)
    assert evidence["cpus_allowed"] == {0: [0], 1: [1]}


@pytest.mark.parametrize("table", [
    pytest.param({11: ("0-1", 0, 0), 12: ("1", 0, 0)}, id="one-floating"),
    pytest.param({11: ("1", 0, 0), 12: ("1", 0, 0)}, id="shared-cpu"),
    pytest.param({11: ("0", 0, 0)}, id="vcpu-missing"),
])
def test_pinning_not_applied_fails(threads, table):
    with pytest.raises(LiveCheckFailed, match="pinned to one distinct"):
        cpu_tune.check_host(threads(table), PINNED)


def test_realtime_threads_pass(threads):
    evidence = cpu_tune.check_host(threads({11: ("0", 0, 0), 12: ("1", 1, 1)}), REALTIME)
    assert evidence["policy"] == {0: "SCHED_OTHER", 1: "SCHED_FIFO"}


@pytest.mark.parametrize("table", [
    pytest.param({11: ("0", 0, 0), 12: ("1", 0, 0)}, id="not-fifo"),
    pytest.param({11: ("0", 0, 0), 12: ("1", 2, 1)}, id="round-robin"),
    pytest.param({11: ("0", 0, 0), 12: ("1", 1, 5)}, id="wrong-priority"),
    pytest.param({11: ("0", 1, 1), 12: ("1", 1, 1)}, id="non-realtime-vcpu-fifo"),
])
def test_realtime_scheduling_wrong_fails(threads, table):
    with pytest.raises(LiveCheckFailed, match="scheduling policy"):
        cpu_tune.check_host(threads(table), REALTIME)


def test_locked_memory_host_check_includes_the_threads(threads, monkeypatch):
    """The locked_memory feature's host check judges the vCPU threads of a pinned guest."""
    from conformance.live import locked_memory
    monkeypatch.setattr(locked_memory, "check_host", lambda g, locked, ram: {"mem_lock": "off"})
    guest = threads({11: ("1", 0, 0), 12: ("1", 0, 0)})
    with pytest.raises(LiveCheckFailed, match="pinned to one distinct"):
        HOST_CHECKS["locked_memory"](guest, PINNED)
