"""The lab: sandboxes driver XML, defines and starts guests, and always destroys them."""

from __future__ import annotations

import threading
import uuid as uuidlib
from pathlib import Path

import libvirt

from conformance.errors import GuestError
from conformance.lab import sandbox
from conformance.lab.connection import DEFAULT_URI, open_connection
from conformance.lab.events import EventHub
from conformance.lab.guest import Guest, destroy_domain
from conformance.lab.runs import Run
from conformance.waiters import wait_until

RECONNECT_TIMEOUT = 30  # a restarting libvirtd answers again within a few seconds


class Lab:
    """One process's guest lab: a libvirt connection, a run, and the guests it started.

    ``start()`` never leaves a half-created domain behind; ``close()`` destroys every
    guest still alive and removes the run directory. Use as a context manager.
    """

    def __init__(self, uri: str = DEFAULT_URI, run: Run | None = None, virt_type: str = "qemu"):
        self.uri = uri
        self.conn = open_connection(uri)
        self.hub = EventHub(self.conn)
        self.run = (run or Run()).create()
        self.virt_type = virt_type
        self._guests: list[Guest] = []
        self._lock = threading.Lock()

    def __enter__(self) -> "Lab":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def placement(self, boot, slug: str = "guest", instance_name: str | None = None,
                  virt_type: str | None = None, loader: str | None = None) -> sandbox.Placement:
        """Decide a new guest's harness-owned identity and console file."""
        name = self.run.domain_name(slug)
        return sandbox.Placement(
            name=name, uuid=str(uuidlib.uuid4()),
            console_path=str(self.run.path(f"{name}.console.log")),
            owner=self.run.owner, virt_type=virt_type or self.virt_type,
            kernel=boot.kernel, initrd=boot.initrd, instance_name=instance_name, loader=loader)

    def start(self, driver_xml: str, placement: sandbox.Placement) -> Guest:
        """Sandbox ``driver_xml``, define and start it; return the running Guest.

        Raises SandboxViolation (nothing defined) or GuestError naming why QEMU did not
        start (the domain is undefined again before raising).
        """
        xml = sandbox.prepare(driver_xml, placement)
        Path(placement.console_path).unlink(missing_ok=True)
        domain = self.connected().defineXML(xml)
        guest = Guest(domain, placement.console_path, self.hub)
        with self._lock:
            self._guests.append(guest)
        try:
            domain.create()
        except libvirt.libvirtError as exc:
            guest.destroy()
            raise GuestError(f"{placement.name} did not start: {exc.get_error_message()}") from None
        return guest

    def connected(self) -> libvirt.virConnect:
        """The libvirt connection, reopened (with a new event hub) if the daemon went away,
        e.g. libvirtd was restarted; QEMU and so our guests survive that."""
        try:
            alive = self.conn.isAlive() == 1
        except libvirt.libvirtError:
            alive = False
        if not alive:
            self.hub.close()
            try:
                self.conn.close()
            except libvirt.libvirtError:
                pass
            self.conn = wait_until(lambda: open_connection(self.uri), RECONNECT_TIMEOUT,
                                   f"libvirt at {self.uri} not reachable again", interval=0.5)
            self.hub = EventHub(self.conn)
        return self.conn

    def guests(self) -> list[Guest]:
        with self._lock:
            return [g for g in self._guests if not g.destroyed]

    def close(self) -> None:
        """Destroy every guest of this lab and remove the run directory."""
        for guest in self.guests():
            guest.destroy()
        # Safety net: anything carrying this run's marker that we lost track of (also guests
        # whose handles died with a restarted libvirtd: looked up again on a live connection).
        from conformance.lab.cleanup import owned_domains
        try:
            for domain, _owner in owned_domains(self.connected(), run_id=self.run.id):
                name = domain.name()
                destroy_domain(domain)
                Path(f"/var/log/libvirt/qemu/{name}.log").unlink(missing_ok=True)
        finally:
            self.run.remove()
        self.hub.close()
        try:
            self.conn.close()
        except libvirt.libvirtError:
            pass
