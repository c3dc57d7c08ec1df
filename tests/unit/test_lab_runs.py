"""Run identity and marker-based cleanup selection (no libvirt needed)."""

import os

import libvirt
from lxml import etree

from conformance.lab import cleanup
from conformance.lab.runs import OWNER_NS, Owner, Run, process_start_time


def test_names_are_unique_and_prefixed(tmp_path):
    """Two runs never produce the same domain name; names carry the run id."""
    a, b = Run(state_dir=tmp_path), Run(state_dir=tmp_path)
    names = {a.domain_name("x") for _ in range(50)} | {b.domain_name("x") for _ in range(50)}
    assert len(names) == 100
    assert all(n.startswith("cfm-") for n in names)
    assert a.domain_name("bad name/../x").split("-", 3)[-1] == "bad-name----x"


def test_owner_alive_checks_pid_and_start_time():
    """An owner is alive only with the same pid and start time (pid reuse is not alive)."""
    me = Owner("r", os.getpid(), process_start_time(os.getpid()))
    assert me.alive()
    assert not Owner("r", os.getpid(), "1").alive()
    assert not Owner("r", 2 ** 22 + 7, "1").alive()


class FakeDomain:
    def __init__(self, name, owner=None):
        self._name, self.owner, self.destroyed, self.undefined = name, owner, False, False

    def name(self):
        return self._name

    def metadata(self, kind, ns, flags):
        if self.owner is None or ns != OWNER_NS:
            raise libvirt.libvirtError("metadata not found")
        return etree.tostring(self.owner.element(), encoding="unicode")

    def isActive(self):
        return not self.destroyed

    def destroy(self):
        self.destroyed = True

    def undefineFlags(self, flags):
        self.undefined = True


class FakeConn:
    def __init__(self, domains):
        self.domains = domains

    def listAllDomains(self, flags):
        return list(self.domains)


def test_cleanup_removes_dead_runs_only_and_never_foreign_domains(tmp_path):
    """Dead runs' domains go; live runs' and unmarked (foreign) domains stay, even cfm-named."""
    dead = FakeDomain("cfm-dead-1", Owner("dead", 2 ** 22 + 7, "1"))
    live = FakeDomain("cfm-live-1", Owner("live", os.getpid(), process_start_time(os.getpid())))
    decoy = FakeDomain("cfm-decoy-looks-like-ours")
    foreign = FakeDomain("production-db")
    report = cleanup.cleanup(FakeConn([dead, live, decoy, foreign]), state_dir=tmp_path)
    assert report.removed_domains == ["cfm-dead-1"]
    assert report.kept_domains == ["cfm-live-1"]
    assert dead.undefined and not live.undefined
    assert not decoy.undefined and not foreign.undefined


def test_cleanup_removes_dead_run_dirs(tmp_path):
    """A run directory whose owner process is gone is removed; a live one is kept."""
    live = Run(state_dir=tmp_path).create()
    dead_dir = tmp_path / "runs" / "deadbeef"
    dead_dir.mkdir(parents=True)
    (dead_dir / "owner").write_text(f"{2 ** 22 + 7} 1\n")
    report = cleanup.cleanup(FakeConn([]), state_dir=tmp_path)
    assert report.removed_dirs == [str(dead_dir)]
    assert live.dir.exists()
