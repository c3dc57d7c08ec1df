"""Files on a remote libvirt host through libvirt's storage API (no shared filesystem).

The harness owns one directory pool per host, ``cfm`` at ``/var/lib/conformance/pool``
(defined on first use; removed, directory included, by the last run that empties it, or
by ``conformance cleanup``). A run's
files there are volumes named ``cfm-<run-id>-...``: the guest kernel and initramfs
(uploaded once per image hash per run, shared by all its guests), one console log per
guest (created empty before the guest is defined, read back with a bounded download), and
``cfm-<run-id>.owner``: the run's ownership marker, which cleanup reads to decide whether
the run is dead (one it cannot read yet is being written: the run is alive for an hour). Nothing here reads or writes a path on the harness for the host.

``certify`` uploads the image once per host for the whole run (its own run's volumes) and
hands the volumes to its pytest child in :data:`SHARED_ENV`; the child's labs adopt them
(:meth:`HostFiles.adopt`) instead of uploading again, and certify removes them at the end.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time

import libvirt
from lxml import etree

from conformance.errors import HarnessError
from conformance.lab.runs import NAME_PREFIX, Owner

POOL_NAME = "cfm"
POOL_DIR = "/var/lib/conformance/pool"
OWNER_SUFFIX = ".owner"
MARKER_GRACE_S = 3600  # an owner marker unreadable for longer was cut short by a dead writer
CHUNK = 256 << 10
SHARED_ENV = "CFM_SHARED_VOLUMES"  # certify -> its pytest child: {"uri", "files"}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class StorageError(HarnessError):
    """A volume could not be created, uploaded, downloaded or deleted on the host."""


def _message(exc: libvirt.libvirtError) -> str:
    return exc.get_error_message() or str(exc)


def pool(conn: libvirt.virConnect, create: bool = True) -> libvirt.virStoragePool | None:
    """The harness pool on ``conn``'s host, started (defined, built and started when
    ``create``), or None. Persistent while it exists, so that removing it
    (:func:`remove_pool_if_empty`) can also remove its directory."""
    try:
        found = conn.storagePoolLookupByName(POOL_NAME)
    except libvirt.libvirtError:
        if not create:
            return None
        found = None
    try:
        if found is None:
            xml = (f"<pool type='dir'><name>{POOL_NAME}</name><target><path>{POOL_DIR}</path>"
                   "<permissions><mode>0755</mode></permissions></target></pool>")
            found = conn.storagePoolDefineXML(xml, 0)
            found.build(0)
        if not found.isActive():
            found.create(0)
        return found
    except libvirt.libvirtError as exc:
        try:  # another process defined or started it in the meantime
            found = conn.storagePoolLookupByName(POOL_NAME)
            if found.isActive():
                return found
        except libvirt.libvirtError:
            pass
        raise StorageError(f"cannot set up storage pool {POOL_NAME} ({POOL_DIR}) on "
                           f"{conn.getURI()}: {_message(exc)}") from None


def _volume_xml(name: str, capacity: int) -> str:
    return (f"<volume><name>{name}</name><capacity unit='bytes'>{capacity}</capacity>"
            "<target><format type='raw'/><permissions><mode>0644</mode></permissions>"
            "</target></volume>")


def shared_env(uri: str, uploaded: dict[str, str]) -> dict[str, str]:
    """The environment that hands ``uploaded`` (local path -> volume path on the host of
    ``uri``) to a child process."""
    return {SHARED_ENV: json.dumps({"uri": uri, "files": uploaded})} if uploaded else {}


def shared_volumes(uri: str, environ=os.environ) -> dict[str, str]:
    """The volumes a parent certify uploaded to the host of ``uri`` (empty when none)."""
    try:
        shared = json.loads(environ.get(SHARED_ENV) or "{}")
    except ValueError:
        return {}
    files = shared.get("files") if isinstance(shared, dict) and shared.get("uri") == uri else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


class HostFiles:
    """One run's volumes in the harness pool of one host (thread-safe: the pool handle is
    set up under its own lock, uploads under another)."""

    def __init__(self, conn_of, run_id: str, owner: Owner):
        self._conn_of = conn_of  # callable: the live connection (reopened after a restart)
        self.run_id = run_id
        self.owner = owner
        self._lock = threading.Lock()
        self._pool_lock = threading.RLock()  # _pool and _pool_conn (the marker write re-enters)
        self._pool = self._pool_conn = None
        self._uploaded: dict[str, str] = {}   # local path -> host path

    def _ensure_pool(self) -> libvirt.virStoragePool:
        """The pool on the live connection (looked up again after a reconnect: a pool
        handle dies with its connection); the owner marker is written on first use."""
        conn = self._conn_of()
        with self._pool_lock:
            if self._pool is None or self._pool_conn is not conn:
                first = self._pool is None
                self._pool, self._pool_conn = pool(conn), conn
                if first:
                    self._write(f"{NAME_PREFIX}{self.run_id}{OWNER_SUFFIX}",
                                etree.tostring(self.owner.element()))
            return self._pool

    def name(self, suffix: str) -> str:
        return f"{NAME_PREFIX}{self.run_id}-{suffix}"

    def upload(self, local_path: str, suffix: str) -> str:
        """Upload a local file once (per run); the path of its volume on the host."""
        with self._lock:
            if local_path not in self._uploaded:
                with open(local_path, "rb") as f:
                    self._uploaded[local_path] = self._write(self.name(suffix), f.read())
            return self._uploaded[local_path]

    @property
    def uploaded(self) -> dict[str, str]:
        """Local path -> volume path of every file uploaded (or adopted) so far."""
        with self._lock:
            return dict(self._uploaded)

    def adopt(self, uploaded: dict[str, str]) -> list[str]:
        """Use volumes another process uploaded (local path -> volume path) instead of
        uploading those files again; one that no longer exists is uploaded after all.
        The adopted volumes stay that process's: never deleted here. The paths adopted."""
        try:
            conn, adopted = self._conn_of(), []
        except HarnessError:
            return []  # the host is gone: the first upload will say so
        with self._lock:
            for local_path, volume_path in uploaded.items():
                try:
                    conn.storageVolLookupByPath(volume_path)
                except libvirt.libvirtError:
                    continue
                self._uploaded.setdefault(local_path, volume_path)
                adopted.append(volume_path)
        return adopted

    def create_empty(self, name: str) -> str:
        """A new empty volume (replacing one of that name); its path on the host."""
        with self._lock:
            self.delete(name)
            return self._write(name, b"")

    def _write(self, name: str, data: bytes, retry: bool = True) -> str:
        pool_ = self._ensure_pool()
        conn = self._conn_of()
        try:
            try:
                volume = pool_.createXML(_volume_xml(name, len(data)), 0)
            except libvirt.libvirtError:
                if not retry:
                    raise
                # another run removed the pool just as it became empty: set it up again
                with self._pool_lock:
                    self._pool, self._pool_conn = pool(conn), conn
                return self._write(name, data, retry=False)
            if data:
                stream = conn.newStream(0)
                volume.upload(stream, 0, len(data), 0)
                source = io.BytesIO(data)
                stream.sendAll(lambda _s, n, src: src.read(min(n, CHUNK)), source)
                stream.finish()
            return volume.path()
        except libvirt.libvirtError as exc:
            raise StorageError(f"cannot write volume {name} on {conn.getURI()}: {_message(exc)}") from None

    def read(self, name: str, limit: int) -> bytes:
        """The first ``limit`` bytes of volume ``name`` (b"" when it does not exist)."""
        conn = self._conn_of()
        try:
            volume = self._ensure_pool().storageVolLookupByName(name)
        except libvirt.libvirtError:
            return b""
        return download(conn, volume, limit)

    def delete(self, name: str) -> None:
        delete_volume(self._ensure_pool(), name)

    def remove_all(self) -> list[str]:
        """Delete every volume of this run (the owner marker last); their names."""
        with self._pool_lock:
            if self._pool is None:
                return []
        return remove_run(self._ensure_pool(), self.run_id)


def download(conn: libvirt.virConnect, volume: libvirt.virStorageVol, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``volume`` through a libvirt stream."""
    chunks, size = [], 0
    stream = conn.newStream(0)
    try:
        volume.download(stream, 0, limit, 0)

        def sink(_stream, data, _opaque):
            nonlocal size
            chunks.append(data)
            size += len(data)
            return len(data)

        stream.recvAll(sink, None)
        stream.finish()
    except libvirt.libvirtError as exc:
        try:
            stream.abort()
        except libvirt.libvirtError:
            pass
        raise StorageError(f"cannot download volume {volume.name()}: {_message(exc)}") from None
    return b"".join(chunks)[:limit]


def delete_volume(pool_: libvirt.virStoragePool, name: str) -> bool:
    """Delete volume ``name`` if it exists; whether it did."""
    try:
        pool_.storageVolLookupByName(name).delete(0)
        return True
    except libvirt.libvirtError:
        return False


def run_volumes(pool_: libvirt.virStoragePool) -> dict[str, list[str]]:
    """{run id: [volume names]} of every harness volume in the pool (refreshed first)."""
    try:
        pool_.refresh(0)
    except libvirt.libvirtError:
        pass
    runs: dict[str, list[str]] = {}
    for name in pool_.listVolumes():
        if name.startswith(NAME_PREFIX):
            run_id = name[len(NAME_PREFIX):].split("-", 1)[0].removesuffix(OWNER_SUFFIX)
            runs.setdefault(run_id, []).append(name)
    return runs


def run_alive(conn: libvirt.virConnect, pool_: libvirt.virStoragePool, run_id: str,
              now: float | None = None) -> bool:
    """Whether ``run_id`` may still be running, by its ownership marker volume: its owner
    lives; or the marker exists but cannot be read yet (created before its upload finishes)
    and is younger than MARKER_GRACE_S. A run without a marker, or whose marker stayed
    unreadable past the grace period (its writer died mid-upload), is dead."""
    try:
        volume = pool_.storageVolLookupByName(f"{NAME_PREFIX}{run_id}{OWNER_SUFFIX}")
    except libvirt.libvirtError:
        return False
    try:
        owner = Owner.from_element(etree.fromstring(download(conn, volume, 4096), _PARSER))
    except (StorageError, etree.XMLSyntaxError):
        owner = None
    if owner is not None:
        return owner.alive()
    written = _modified(volume)
    return written is None or (time.time() if now is None else now) - written < MARKER_GRACE_S


def _modified(volume: libvirt.virStorageVol) -> float | None:
    """When ``volume`` was last written (its host's clock, seconds since the epoch), or None
    when libvirt does not say."""
    try:
        stamp = etree.fromstring(volume.XMLDesc(0).encode(), _PARSER).findtext("target/timestamps/mtime")
        return float(stamp) if stamp else None
    except (libvirt.libvirtError, etree.XMLSyntaxError, ValueError):
        return None


def remove_run(pool_: libvirt.virStoragePool, run_id: str) -> list[str]:
    """Delete the volumes of ``run_id``, its owner marker last; the names deleted."""
    names = sorted(run_volumes(pool_).get(run_id, []), key=lambda n: n.endswith(OWNER_SUFFIX))
    return [name for name in names if delete_volume(pool_, name)]


def remove_pool_if_empty(conn: libvirt.virConnect) -> bool:
    """Stop the (transient) harness pool and remove its directory when it holds nothing."""
    found = pool(conn, create=False)
    if found is None:
        return False
    try:
        found.refresh(0)
        if found.listVolumes():
            return False
        found.destroy()
        if found.isPersistent():
            found.delete(0)  # the (empty) directory
            found.undefine()
        return True
    except libvirt.libvirtError:
        return False
