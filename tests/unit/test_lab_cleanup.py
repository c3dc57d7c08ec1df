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


class FakeVolume:
    def __init__(self, pool, name, data=b"", mtime=None):
        self.pool, self._name, self.data, self.mtime = pool, name, data, mtime

    def name(self):
        return self._name

    def XMLDesc(self, _flags=0):
        stamps = f"<timestamps><mtime>{self.mtime}</mtime></timestamps>" if self.mtime else ""
        return f"<volume><name>{self._name}</name><target>{stamps}</target></volume>"

    def delete(self, _flags):
        del self.pool.volumes[self._name]


class FakePool:
    """The harness storage pool of a host: volumes by name."""

    def __init__(self, volumes):
        self.volumes = {}
        for name, data in volumes.items():
            self.volumes[name] = FakeVolume(self, name, data)
        self.removed = False

    def refresh(self, _flags):
        pass

    def listVolumes(self):
        return sorted(self.volumes)

    def storageVolLookupByName(self, name):
        if name not in self.volumes:
            raise libvirt.libvirtError("no such volume")
        return self.volumes[name]

    def isActive(self):
        return not self.removed

    def isPersistent(self):
        return True

    def destroy(self):
        self.removed = True

    def delete(self, _flags):
        pass

    def undefine(self):
        pass


class FakeConn:
    def __init__(self, domains, pool=None):
        self.domains, self.pool = domains, pool

    def listAllDomains(self, _flags):
        return [d for d in self.domains if not d.undefined]

    def storagePoolLookupByName(self, _name):
        if self.pool is None or self.pool.removed:
            raise libvirt.libvirtError("no such pool")
        return self.pool


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


def _marker(owner) -> bytes:
    from lxml import etree
    return etree.tostring(owner.element())


@pytest.fixture
def volume_download(monkeypatch):
    """storage.download reads the fake volume's bytes (no libvirt stream)."""
    from conformance.lab import storage
    monkeypatch.setattr(storage, "download", lambda conn, volume, limit: volume.data[:limit])


def test_volumes_of_dead_runs_go_live_and_foreign_stay(tmp_path, dead_owner, volume_download):
    """Pool volumes: a dead run's (owner marker last) and an unowned run's go; a live run's
    and volumes not named cfm-* stay; the pool stays while it is not empty."""
    live = Owner("cafe0001", 1, process_start_time(1) or "")
    pool = FakePool({
        "cfm-deadbeef.owner": _marker(dead_owner), "cfm-deadbeef-abc-vmlinuz": b"k",
        "cfm-deadbeef-1-live-x.console.log": b"",
        "cfm-cafe0001.owner": _marker(live), "cfm-cafe0001-abc-initrd": b"i",
        "cfm-0badc0de-abc-vmlinuz": b"k",  # its owner marker is gone: the run is dead
        "someone-elses.img": b"x"})
    report = cleanup(FakeConn([], pool), state_dir=tmp_path)
    assert sorted(report.removed_volumes) == ["cfm-0badc0de-abc-vmlinuz",
                                              "cfm-deadbeef-1-live-x.console.log",
                                              "cfm-deadbeef-abc-vmlinuz", "cfm-deadbeef.owner"]
    assert report.removed_volumes.index("cfm-deadbeef.owner") > \
        report.removed_volumes.index("cfm-deadbeef-abc-vmlinuz")
    assert sorted(report.kept_volumes) == ["cfm-cafe0001-abc-initrd", "cfm-cafe0001.owner"]
    assert sorted(pool.volumes) == ["cfm-cafe0001-abc-initrd", "cfm-cafe0001.owner",
                                    "someone-elses.img"]
    assert not pool.removed


def test_empty_pool_is_removed(tmp_path, dead_owner, volume_download):
    """Once the last run's volumes are gone the harness pool is removed too."""
    pool = FakePool({"cfm-deadbeef.owner": _marker(dead_owner)})
    cleanup(FakeConn([], pool), state_dir=tmp_path)
    assert pool.removed


def test_owner_of_another_harness_machine_counts_as_alive():
    """A marker written by another harness machine is never judged dead from here; one from
    this machine before its last reboot is."""
    from conformance.lab.runs import harness_machine
    host, boot = harness_machine()
    assert Owner("x", 2 ** 22 + 1, "1", host="elsewhere", boot="b").alive()
    assert not Owner("x", os.getpid(), process_start_time(os.getpid()), host, "old-boot").alive()
    assert Owner("x", os.getpid(), process_start_time(os.getpid()), host, boot).alive()


def test_an_owner_marker_still_being_written_keeps_its_run(tmp_path, volume_download):
    """A run's owner marker volume exists before its upload finishes: until then it cannot be
    read (empty or cut short). Such a run is not judged dead: its volumes stay (a live run's
    image and consoles were deleted under it), unless --force."""
    import time
    pool = FakePool({"cfm-feedf00d.owner": b"<cfm:owner xmlns:cfm=", "cfm-feedf00d-abc-vmlinuz": b"k"})
    pool.volumes["cfm-feedf00d.owner"].mtime = f"{time.time():.6f}"
    report = cleanup(FakeConn([], pool), state_dir=tmp_path)
    assert report.removed_volumes == []
    assert sorted(report.kept_volumes) == ["cfm-feedf00d-abc-vmlinuz", "cfm-feedf00d.owner"]
    report = cleanup(FakeConn([], pool), force=True, state_dir=tmp_path)
    assert sorted(report.removed_volumes) == ["cfm-feedf00d-abc-vmlinuz", "cfm-feedf00d.owner"]


def test_an_owner_marker_unreadable_for_long_is_a_dead_run(tmp_path, volume_download):
    """A marker that stayed unreadable past the grace period (its writer died mid-upload)
    does not keep its run's volumes forever."""
    import time
    from conformance.lab import storage
    old = time.time() - storage.MARKER_GRACE_S - 60
    pool = FakePool({"cfm-feedf00d.owner": b"", "cfm-feedf00d-abc-vmlinuz": b"k"})
    pool.volumes["cfm-feedf00d.owner"].mtime = f"{old:.6f}"
    report = cleanup(FakeConn([], pool), state_dir=tmp_path)
    assert sorted(report.removed_volumes) == ["cfm-feedf00d-abc-vmlinuz", "cfm-feedf00d.owner"]
