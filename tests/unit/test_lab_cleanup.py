"""Cleanup selects by the ownership marker only (fake libvirt connection, no daemon)."""

import os
import subprocess
import sys

import libvirt
import pytest

from conformance.lab.cleanup import cleanup
from conformance.lab.runs import Owner, Run, process_start_time


class FakeDomain:
    def __init__(self, name, owner=None, raw_metadata=None):
        self._name, self.owner, self.raw = name, owner, raw_metadata
        self.destroyed = self.undefined = False

    def name(self):
        return self._name

    def metadata(self, _type, _uri, _flags):
        if self.raw is not None:
            return self.raw
        if self.owner is None:
            raise libvirt.libvirtError("metadata not found")
        from lxml import etree
        return etree.tostring(self.owner.element(), encoding="unicode")

    def isActive(self):
        return not self.destroyed

    def destroy(self):
        self.destroyed = True

    def undefineFlags(self, _flags):
        self.undefined = True


class FakeConn:
    def __init__(self, domains):
        self.domains = domains

    def listAllDomains(self, _flags):
        return [d for d in self.domains if not d.undefined]


@pytest.fixture
def dead_owner():
    """An owner whose process has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start_time(child.pid)
    child.wait()
    return Owner("deadbeef", child.pid, started or "1")


def test_foreign_domains_are_never_touched(tmp_path):
    """Domains without the marker (even named cfm-*) or with a garbled one are left alone."""
    foreign = [FakeDomain("cfm-deadbeef-1-x"), FakeDomain("dev-other-1"),
               FakeDomain("cfm-x", raw_metadata="<not-xml")]
    report = cleanup(FakeConn(foreign), state_dir=tmp_path)
    assert report.removed_domains == [] and not any(d.undefined or d.destroyed for d in foreign)


def test_dead_runs_are_removed_live_runs_kept(tmp_path, dead_owner):
    """Domains of a dead owner are removed; those of another live process are kept."""
    me = Run("0123abcd").owner
    live_other = Owner("cafe0001", 1, process_start_time(1) or "")  # pid 1 is alive
    dead = FakeDomain("anything-dead", dead_owner)
    mine = FakeDomain("anything-mine", me)
    other = FakeDomain("anything-other", live_other)
    report = cleanup(FakeConn([dead, mine, other]), state_dir=tmp_path)
    assert report.removed_domains == ["anything-dead"]
    assert dead.destroyed and dead.undefined
    assert sorted(report.kept_domains) == ["anything-mine", "anything-other"]
    assert not other.undefined


def test_force_removes_live_runs_too(tmp_path):
    """force=True removes every marked domain, also of live owners."""
    other = FakeDomain("x", Owner("cafe0001", 1, process_start_time(1) or ""))
    report = cleanup(FakeConn([other, FakeDomain("foreign")]), force=True, state_dir=tmp_path)
    assert report.removed_domains == ["x"]


def test_one_run_selected_by_id(tmp_path, dead_owner):
    """cleanup(run_id=...) removes exactly that run's domains and directory."""
    mine = Run(state_dir=tmp_path).create()
    keep = Run(state_dir=tmp_path).create()
    a = FakeDomain("a", mine.owner)
    b = FakeDomain("b", keep.owner)
    report = cleanup(FakeConn([a, b]), run_id=mine.id, state_dir=tmp_path)
    assert report.removed_domains == ["a"] and not b.undefined
    assert not mine.dir.exists() and keep.dir.exists()


def test_run_dirs_of_dead_owners_are_removed(tmp_path, dead_owner):
    """Run directories whose owner process is gone (or unreadable) go; live ones stay."""
    runs = tmp_path / "runs"
    (runs / "dead").mkdir(parents=True)
    (runs / "dead" / "owner").write_text(f"{dead_owner.pid} {dead_owner.started}\n")
    (runs / "garbled").mkdir()
    live = Run(state_dir=tmp_path).create()
    report = cleanup(FakeConn([]), state_dir=tmp_path)
    assert sorted(os.path.basename(p) for p in report.removed_dirs) == ["dead", "garbled"]
    assert live.dir.exists()
