"""libvirt domain events, received once per connection and dispatched per domain UUID."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass

import libvirt

LIFECYCLE = "lifecycle"
WATCHDOG = "watchdog"
REBOOT = "reboot"
AGENT = "agent-lifecycle"

# libvirt enum values -> readable names, for messages and reports.
LIFECYCLE_NAMES = {0: "defined", 1: "undefined", 2: "started", 3: "suspended", 4: "resumed",
                   5: "stopped", 6: "shutdown", 7: "pmsuspended", 8: "crashed"}
WATCHDOG_ACTIONS = {0: "none", 1: "pause", 2: "reset", 3: "poweroff", 4: "shutdown",
                    5: "debug", 6: "inject-nmi"}
AGENT_STATES = {1: "connected", 2: "disconnected"}


@dataclass(frozen=True)
class Event:
    kind: str        # one of LIFECYCLE, WATCHDOG, REBOOT, AGENT
    detail: str      # e.g. "stopped", "reset", "connected"
    at: float        # time.monotonic() when received
    raw: tuple = ()


class EventHub:
    """Registers connection-wide callbacks and keeps a list of events per domain UUID."""

    def __init__(self, conn: libvirt.virConnect):
        self._events: dict[str, list[Event]] = defaultdict(list)
        self._lock = threading.Lock()
        self._ids = [
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                        self._lifecycle, None),
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_WATCHDOG,
                                        self._watchdog, None),
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                        self._reboot, None),
            conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                                        self._agent, None),
        ]
        self._conn = conn

    def _add(self, dom, kind: str, detail: str, *raw) -> None:
        with self._lock:
            self._events[dom.UUIDString()].append(Event(kind, detail, time.monotonic(), raw))

    def _lifecycle(self, _conn, dom, event, detail, _opaque):
        self._add(dom, LIFECYCLE, LIFECYCLE_NAMES.get(event, str(event)), event, detail)

    def _watchdog(self, _conn, dom, action, _opaque):
        self._add(dom, WATCHDOG, WATCHDOG_ACTIONS.get(action, str(action)), action)

    def _reboot(self, _conn, dom, _opaque):
        self._add(dom, REBOOT, "reboot")

    def _agent(self, _conn, dom, state, reason, _opaque):
        self._add(dom, AGENT, AGENT_STATES.get(state, str(state)), state, reason)

    def events(self, uuid: str) -> list[Event]:
        with self._lock:
            return list(self._events.get(uuid, ()))

    def forget(self, uuid: str) -> None:
        with self._lock:
            self._events.pop(uuid, None)

    def close(self) -> None:
        for callback_id in self._ids:
            try:
                self._conn.domainEventDeregisterAny(callback_id)
            except libvirt.libvirtError:
                pass
        self._ids = []
