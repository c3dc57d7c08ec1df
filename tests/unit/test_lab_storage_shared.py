"""Volumes certify uploads once per host and hands to its pytest child (lab/storage.py)."""

import libvirt

from conformance.errors import HostUnreachable
from conformance.lab import storage
from conformance.lab.runs import Owner

URI = "qemu+ssh://root@node1/system"


class FakeConn:
    def __init__(self, volumes):
        self.volumes = set(volumes)

    def storageVolLookupByPath(self, path):
        if path not in self.volumes:
            raise libvirt.libvirtError(f"no volume {path}")
        return path


def files(conn_of):
    return storage.HostFiles(conn_of, "r1", Owner(run="r1", pid=1, started="1"))


def test_shared_env_round_trip_only_for_its_uri():
    """The child finds the volumes for the URI they were uploaded to, and nothing for another
    URI, no variable or a garbled one."""
    env = storage.shared_env(URI, {"/img/vmlinuz": "/pool/cfm-r0-k"})
    assert storage.shared_volumes(URI, env) == {"/img/vmlinuz": "/pool/cfm-r0-k"}
    assert storage.shared_volumes("qemu+ssh://node2/system", env) == {}
    assert storage.shared_volumes(URI, {}) == {}
    assert storage.shared_volumes(URI, {storage.SHARED_ENV: "{not json"}) == {}
    assert storage.shared_volumes(URI, {storage.SHARED_ENV: f'{{"uri": "{URI}", "files": 3}}'}) == {}
    assert storage.shared_env(URI, {}) == {}


def test_adopted_volumes_are_not_uploaded_again():
    """An adopted file's upload returns the shared volume; one whose volume is gone is
    uploaded after all (not adopted)."""
    conn = FakeConn({"/pool/cfm-r0-k"})
    host_files = files(lambda: conn)
    adopted = host_files.adopt({"/img/vmlinuz": "/pool/cfm-r0-k", "/img/initrd": "/pool/gone"})
    assert adopted == ["/pool/cfm-r0-k"]
    assert host_files.upload("/img/vmlinuz", "k") == "/pool/cfm-r0-k"
    assert host_files.uploaded == {"/img/vmlinuz": "/pool/cfm-r0-k"}


def test_adopt_on_a_lost_host_adopts_nothing():
    """No connection: nothing adopted, no error here (the first upload names the host)."""
    def lost():
        raise HostUnreachable(URI, "gone")
    assert files(lost).adopt({"/img/vmlinuz": "/pool/cfm-r0-k"}) == []


def test_pool_is_looked_up_again_after_a_reconnect(monkeypatch):
    """A pool handle dies with its connection: after the lab reconnected, the run's volumes
    are removed through the pool of the new connection (the owner marker written once)."""
    old, new = object(), object()
    live = [old]
    writes = []
    monkeypatch.setattr(storage, "pool", lambda conn: ("pool", conn))
    monkeypatch.setattr(storage, "remove_run", lambda pool_, run_id: [pool_])
    monkeypatch.setattr(storage, "delete_volume", lambda pool_, name: False)
    monkeypatch.setattr(storage.HostFiles, "_write",
                        lambda self, name, data, retry=True: writes.append(name) or name)
    host_files = files(lambda: live[0])
    host_files.create_empty("c1")
    live[0] = new
    assert host_files.remove_all() == [("pool", new)]
    assert writes == ["cfm-r1.owner", "c1"]


def test_threads_set_up_the_pool_once(monkeypatch):
    """HostFiles is shared by a lab's threads (console reads, background destroys, uploads):
    two of them finding no pool yet set it up once and write the owner marker once (the
    second marker write would fail: the volume exists)."""
    import threading
    import time

    looked_up, writes = [], []

    def slow_pool(conn):
        looked_up.append(conn)
        time.sleep(0.2)
        return ("pool", conn)

    monkeypatch.setattr(storage, "pool", slow_pool)
    monkeypatch.setattr(storage, "delete_volume", lambda pool_, name: False)
    monkeypatch.setattr(storage.HostFiles, "_write",
                        lambda self, name, data, retry=True: writes.append(name) or name)
    conn = object()
    host_files = files(lambda: conn)
    threads = [threading.Thread(target=host_files.delete, args=(f"c{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert writes == ["cfm-r1.owner"] and len(looked_up) == 1
