"""The lab: sandboxes driver XML, defines and starts guests, and always destroys them.

A lab works on one libvirt host, local or remote. On a local URI the boot files and
console logs are files of this machine (the run directory); on a remote one they are
volumes of the harness pool on that host (:mod:`conformance.lab.storage`), and host-side
facts come over ssh (:mod:`conformance.lab.host`): nothing assumes a shared filesystem.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid as uuidlib

import libvirt

from conformance.errors import DomainRefused, GuestError, HostUnreachable, WaitTimeout
from conformance.lab import sandbox, storage
from conformance.lab.connection import DEFAULT_URI, open_connection
from conformance.lab.console import LocalConsole, VolumeConsole
from conformance.lab.events import EventHub
from conformance.lab.guest import Guest
from conformance.lab.host import host_access
from conformance.lab.link import alive
from conformance.lab.runs import Run
from conformance.lab.teardown import remove_domain
from conformance.waiters import wait_until

RECONNECT_TIMEOUT = 30  # a restarting libvirtd answers again within a few seconds


class Lab:
    """One process's guest lab: a libvirt connection, a run, and the guests it started.

    ``start()`` never leaves a half-created domain behind; ``close()`` destroys every
    guest still alive, removes the run's volumes on a remote host and the run directory.
    Use as a context manager.
    """

    def __init__(self, uri: str = DEFAULT_URI, run: Run | None = None, virt_type: str = "qemu",
                 shared_volumes: dict[str, str] | None = None):
        """``shared_volumes``: boot files another process of this run uploaded to the host
        (local path -> volume path, :func:`storage.shared_volumes`), used, not uploaded again."""
        self.uri = uri
        self.virt_type = virt_type
        self.unreachable: str | None = None
        self.reconnects = 0  # times the connection was re-established (libvirtd restarted)
        self._connect_lock = threading.RLock()
        self._capabilities = None
        self._guests: list[Guest] = []
        self._lock = threading.Lock()
        self.hub = self.run = self.host = None
        self.conn = open_connection(uri)
        try:
            self.hub = EventHub(self.conn)
            self.run = run or Run()
            self.run.create()
            self.host = host_access(uri)
            self.files = None if self.host.local else storage.HostFiles(
                self.connected, self.run.id, self.run.owner)
            if self.files is not None and shared_volumes:
                self.files.adopt(shared_volumes)
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Undo a half-made ``__init__``: what it opened or created so far goes again."""
        for part in (self.hub, self.host):
            if part is not None:
                part.close()
        if self.run is not None:
            self.run.remove()
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def remote(self) -> bool:
        return not self.host.local

    def host_image(self, image):
        """``image`` as this lab's host sees it: the same files locally; on a remote host
        its kernel, initramfs and firmware ROM as volumes of the harness pool (uploaded once
        per lab, or adopted from ``shared_volumes``)."""
        if not self.remote:
            return image
        upload = self.files.upload
        return dataclasses.replace(
            image, kernel=upload(image.kernel, f"{image.digest}-vmlinuz"),
            initrd=upload(image.initrd, f"{image.digest}-initrd"),
            loader=upload(image.loader, f"{image.digest}-firmware.rom") if image.loader else None)

    def capabilities(self):
        """Measured capabilities of this lab's host (memlock limits, /dev/kvm, ...), once."""
        if self._capabilities is None:
            from conformance.host.capabilities import probe
            self._capabilities = probe(self.connected(), self.host)
        return self._capabilities

    def placement(self, boot, slug: str = "guest", instance_name: str | None = None,
                  virt_type: str | None = None, loader: str | None = None,
                  instance_uuid: str | None = None, define_only: bool = False) -> sandbox.Placement:
        """Decide a new guest's harness-owned identity and console file (on the host; a
        domain only defined, never started, gets a path in the run directory and no file).

        ``instance_name``/``instance_uuid``: the identity the driver was asked for; the
        sandbox refuses XML with another one, and the domain keeps the instance uuid
        (``instance_uuid`` must be fresh: a new uuid4 per guest identity)."""
        name = self.run.domain_name(slug)
        if self.remote and not define_only:
            console = self.files.create_empty(f"{name}.console.log")
        else:
            console = str(self.run.path(f"{name}.console.log"))
        return sandbox.Placement(
            name=name, uuid=str(uuidlib.UUID(instance_uuid) if instance_uuid else uuidlib.uuid4()),
            console_path=console, owner=self.run.owner, virt_type=virt_type or self.virt_type,
            kernel=boot.kernel, initrd=boot.initrd, cmdline=boot.cmdline,
            instance_name=instance_name, loader=loader, instance_uuid=instance_uuid)

    def start(self, driver_xml: str, placement: sandbox.Placement) -> Guest:
        """Sandbox ``driver_xml``, define and start it; return the running Guest.

        Raises SandboxViolation (nothing defined) or DomainRefused (libvirt refused the XML):
        the driver's XML was refused; or GuestError naming why QEMU did not start (the
        domain is undefined again before raising).
        """
        xml = self.sandboxed(driver_xml, placement)
        if self.remote:
            console = VolumeConsole(self.files, f"{placement.name}.console.log", placement.console_path)
        else:
            console = LocalConsole(placement.console_path)
            console.remove()
        conn, hub, _ = self.link()
        domain = self.define(xml, conn)
        guest = Guest(domain, console, hub, self.host, lab=self)
        with self._lock:
            self._guests.append(guest)
        guest.history.defined("create", driver_xml, xml)
        try:
            domain.create()
        except libvirt.libvirtError as exc:
            guest.destroy()
            if not alive(conn):
                raise HostUnreachable(self.uri, f"the connection broke while {placement.name} "
                                      f"was starting: {exc.get_error_message()}") from None
            raise GuestError(f"{placement.name} did not start: {exc.get_error_message()}") from None
        guest.note_booted()
        return guest

    def define(self, xml: str, conn: libvirt.virConnect | None = None) -> libvirt.virDomain:
        """``defineXML`` of sandboxed driver XML (on ``conn``, default the live connection).
        libvirt refusing it on a live connection raises DomainRefused with libvirt's message;
        on a connection that died meanwhile, HostUnreachable (nothing was decided about the XML)."""
        conn = conn or self.connected()
        try:
            return conn.defineXML(xml)
        except libvirt.libvirtError as exc:
            message = exc.get_error_message() or str(exc)
            if not alive(conn):
                raise HostUnreachable(self.uri, f"defineXML: {message}") from None
            raise DomainRefused(f"libvirt refused the driver's domain: {message}") from None

    def define_and_undefine(self, driver_xml: str, placement: sandbox.Placement) -> None:
        """libvirt's verdict on ``driver_xml``: sandbox it, define it (never started) and
        undefine it at once. Raises SandboxViolation (nothing defined), DomainRefused or
        HostUnreachable (:meth:`define`); a definition left by an interruption carries the
        run's marker, so cleanup finds it."""
        domain = self.define(self.sandboxed(driver_xml, placement))
        remove_domain(domain, self.host)

    def sandboxed(self, driver_xml: str, placement: sandbox.Placement) -> str:
        """``driver_xml`` checked against the sandbox rules (device numbers looked up on this
        lab's host) with the harness-owned parts of ``placement``."""
        return sandbox.prepare(driver_xml, placement, self.host.char_device)

    def connected(self) -> libvirt.virConnect:
        """The libvirt connection, reopened (with a new event hub) if the daemon went away,
        e.g. libvirtd was restarted; QEMU and so our guests survive that (each Guest looks
        its domain up again on the new connection). A daemon that does not answer within
        RECONNECT_TIMEOUT raises HostUnreachable, and so does every later call at once (the
        host is given up for this run). Thread-safe."""
        with self._connect_lock:
            return self._connected()

    def link(self) -> tuple[libvirt.virConnect, EventHub, int]:
        """(the live connection, its event hub, :attr:`reconnects`), taken together."""
        with self._connect_lock:
            return self._connected(), self.hub, self.reconnects

    def _connected(self) -> libvirt.virConnect:
        if self.unreachable:
            raise HostUnreachable(self.uri, self.unreachable)
        if not alive(self.conn):
            self.hub.close()
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            try:
                self.conn = wait_until(lambda: open_connection(self.uri), RECONNECT_TIMEOUT,
                                       f"libvirt at {self.uri} not reachable again", interval=0.5)
            except WaitTimeout as exc:
                self.unreachable = f"the connection was lost and not re-established: {exc}"
                raise HostUnreachable(self.uri, self.unreachable) from None
            self.hub = EventHub(self.conn)
            self.reconnects += 1
        return self.conn

    def adopt(self, guest: Guest) -> None:
        """Own ``guest``, a domain that came to this lab's host from another (a migration):
        :meth:`close` destroys it with the others."""
        with self._lock:
            self._guests.append(guest)

    def guests(self) -> list[Guest]:
        with self._lock:
            return [g for g in self._guests if not g.destroyed]

    def close(self) -> None:
        """Destroy every guest of this lab, remove its volumes and the run directory."""
        try:
            if not self.unreachable:
                for guest in self.guests():
                    guest.destroy()
                self._remove_leftovers()
        finally:
            self.run.remove()
            self.host.close()
            self.hub.close()
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass

    def _remove_leftovers(self) -> None:
        # Safety net: anything carrying this run's marker that we lost track of (also guests
        # whose handles died with a restarted libvirtd: looked up again on a live connection).
        from conformance.lab.cleanup import owned_domains
        try:
            conn = self.connected()
        except HostUnreachable:
            return
        for domain, _owner in owned_domains(conn, run_id=self.run.id):
            remove_domain(domain, self.host)
        if self.files is not None:
            self.files.remove_all()
            storage.remove_pool_if_empty(conn)

