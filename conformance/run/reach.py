"""Whether a host's libvirt answers, before its run and after a run that went wrong; the
reason that then blames the host (every one of its unfinished checks is an error naming it)."""

from __future__ import annotations

import threading

from conformance.errors import HarnessError
from conformance.run.hosts import Host

REACH_TIMEOUT = 30.0  # seconds for a host's libvirtd to answer


def unreachable(host: Host) -> str | None:
    """``host LABEL (URI) unreachable: why`` when its libvirt does not answer, else None."""
    why = reachable(host.uri)
    return f"host {host.title} unreachable: {why}" if why else None


def reachable(uri: str, timeout: float = REACH_TIMEOUT) -> str | None:
    """None when libvirt at ``uri`` answers within ``timeout`` s, else why not."""
    from conformance.waiters import wait_until
    found: dict = {}

    def probe() -> None:
        try:
            from conformance.lab.connection import open_connection
            conn = open_connection(uri)
            try:
                conn.getLibVersion()
            finally:
                conn.close()
            found["why"] = None
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            found["why"] = getattr(exc, "detail", None) or str(exc) or type(exc).__name__

    # libvirt.open cannot be cancelled: the probe thread is a daemon, abandoned on timeout
    threading.Thread(target=probe, name=f"reach {uri}", daemon=True).start()
    try:
        wait_until(lambda: "why" in found, timeout, f"libvirt at {uri} did not answer", interval=0.05)
    except HarnessError as exc:
        return str(exc)
    return found["why"]
