"""A domain followed across libvirt reconnects, and the host's errors told from the guest's.

A libvirtd that is restarted closes every client connection; QEMU and the domains survive
it. The lab then reconnects (``Lab.connected``, a new event hub); a :class:`DomainLink` looks
its domain up again by uuid on the new connection and takes its events from the new hub
(events sent while the daemon was down never arrive: :meth:`DomainLink.require_events_since`
tells a lost event from one that was never sent). A libvirt call that fails because the
connection died under it is :class:`~conformance.errors.HostUnreachable` naming the host,
never an error of the domain (nor a failure of the driver).
"""

from __future__ import annotations

import libvirt

from conformance.errors import GuestError, HarnessError, HostUnreachable


class DomainGone(GuestError):
    """The domain is no longer defined (found so when it was looked up again)."""


def alive(conn) -> bool:
    """Whether ``conn`` still reaches its daemon (a libvirtd that went away closes it)."""
    try:
        return conn.isAlive() == 1
    except libvirt.libvirtError:
        return False


class DomainLink:
    """One domain's handle and events on the live connection of ``lab`` (any object with
    ``uri`` and ``link() -> (connection, event hub, reconnects)``; None: the handle as is)."""

    def __init__(self, domain: libvirt.virDomain, hub, lab=None):
        self._domain: libvirt.virDomain | None = domain
        self._conn = domain.connect()  # the connection the handle belongs to
        self._hub, self._lab = hub, lab
        self.name, self.uuid = domain.name(), domain.UUIDString()
        self._earlier_events: list = []  # received on connections since replaced

    @property
    def uri(self) -> str:
        return self._lab.uri if self._lab is not None else "libvirt"

    @property
    def domain(self) -> libvirt.virDomain:
        """The handle on the live connection, looked up again after a reconnect (DomainGone
        if no longer defined); HostUnreachable when the host was given up."""
        if self._lab is not None:
            conn, hub, _ = self._lab.link()
            if conn is not self._conn:
                self._earlier_events += self._hub.events(self.uuid)
                self._conn, self._hub, self._domain = conn, hub, None
                try:
                    self._domain = conn.lookupByUUIDString(self.uuid)
                except libvirt.libvirtError as exc:
                    if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                        raise self.cut("the lookup", exc) from None
        if self._domain is None:
            raise DomainGone(f"{self.name}: the domain is no longer defined on {self.uri}")
        return self._domain

    @property
    def last_handle(self) -> libvirt.virDomain | None:
        """The handle last known, without reconnecting (for a best-effort teardown)."""
        return self._domain

    def call(self, what: str, call):
        """``call(domain)``; a libvirt error raised because the connection died under it is
        HostUnreachable naming the host (the next call reconnects), any other is re-raised."""
        domain = self.domain
        try:
            return call(domain)
        except libvirt.libvirtError as exc:
            if alive(self._conn):
                raise
            raise self.cut(what, exc) from None

    def cut(self, what: str, exc: libvirt.libvirtError) -> HostUnreachable:
        return HostUnreachable(self.uri, f"the connection broke during {what} of {self.name} "
                               f"({exc.get_error_message() or exc}); later calls reconnect")

    def events(self) -> list:
        """The domain's events, oldest first, across reconnects."""
        try:
            self.domain  # noqa: B018 - follows a reconnect to the new connection's hub
        except HarnessError:
            pass  # the host or the domain is gone: what was received so far
        return self._earlier_events + self._hub.events(self.uuid)

    def forget(self) -> None:
        self._hub.forget(self.uuid)

    def mark(self) -> int:
        """A mark for :meth:`require_events_since`: how often the lab reconnected, now."""
        return self._lab.link()[2] if self._lab is not None else 0

    def require_events_since(self, mark: int, what: str) -> None:
        """HostUnreachable when the lab reconnected since ``mark`` (libvirtd restarted: an
        event sent in between never arrived), so a missing event is not taken for the
        guest's behaviour; also when the host was given up."""
        if self._lab is not None and self._lab.link()[2] != mark:
            raise HostUnreachable(self.uri, f"the connection was re-established while waiting "
                                  f"for {what} of {self.name} (libvirtd restarted?): an event "
                                  "sent meanwhile never arrived")
