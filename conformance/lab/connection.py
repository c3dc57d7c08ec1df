"""A libvirt connection with libvirt's default event loop running in a daemon thread."""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qsl, urlsplit

import libvirt

from conformance.errors import HostCapabilityMissing, HostUnreachable

DEFAULT_URI = "qemu:///system"
OPEN_TIMEOUT = 30.0  # seconds for libvirt.open of a remote host (TCP/ssh connect included)
_loop_lock = threading.Lock()
_loop_started = False


def _silence_libvirt_errors() -> None:
    # libvirt prints every error to stderr by default; we raise them instead.
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def start_event_loop() -> None:
    """Register and run libvirt's default event loop once per process (idempotent)."""
    global _loop_started
    with _loop_lock:
        if _loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run() -> None:
            # An error of one iteration must not end the loop: events and keepalive
            # (how a dead connection is noticed) would stop silently.
            while True:
                try:
                    libvirt.virEventRunDefaultImpl()
                except Exception:  # noqa: BLE001 - keep serving; the next iteration retries
                    time.sleep(0.1)

        threading.Thread(target=run, name="libvirt-events", daemon=True).start()
        _loop_started = True


def non_interactive(uri: str) -> str:
    """``uri`` for libvirt.open in a run nobody answers: an ``+ssh`` URI gets ``no_tty=1``
    unless it sets no_tty, so a password or host-key question fails at once with ssh's own
    message instead of waiting for a terminal until the open's deadline."""
    parts = urlsplit(uri)
    if not parts.scheme.endswith("+ssh"):
        return uri
    if any(key == "no_tty" for key, _ in parse_qsl(parts.query, keep_blank_values=True)):
        return uri
    return parts._replace(query=f"{parts.query}&no_tty=1" if parts.query else "no_tty=1").geturl()


def open_connection(uri: str = DEFAULT_URI) -> libvirt.virConnect:
    """Open ``uri`` (events enabled). A local daemon that does not answer raises
    HostCapabilityMissing (this machine is not set up); a remote one HostUnreachable."""
    from conformance.lab.host import is_local_uri
    _silence_libvirt_errors()
    start_event_loop()
    try:
        conn = libvirt.open(uri) if is_local_uri(uri) else _open_bounded(uri, OPEN_TIMEOUT)
    except libvirt.libvirtError as exc:
        if not is_local_uri(uri):
            raise HostUnreachable(uri, exc.get_error_message() or str(exc)) from None
        raise HostCapabilityMissing(
            f"libvirt at {uri} is not reachable: {exc.get_error_message() or exc} "
            "(run: python3 -m conformance.host.bootstrap)") from None
    conn.setKeepAlive(5, 3)
    return conn


def _open_bounded(uri: str, timeout: float) -> libvirt.virConnect:
    """libvirt.open in a helper thread, given up after ``timeout`` (libvirt has no connect
    timeout: a host that drops packets would block for minutes). A connection that opens
    after the deadline is closed by the helper thread. ssh never asks: :func:`non_interactive`."""
    result: dict = {}
    done, lock = threading.Event(), threading.Lock()

    def opener() -> None:
        try:
            conn, error = libvirt.open(non_interactive(uri)), None
        except libvirt.libvirtError as exc:
            conn, error = None, exc
        with lock:
            if result.get("gave_up") and conn is not None:
                conn.close()
            result.update(conn=conn, error=error)
            done.set()

    threading.Thread(target=opener, name=f"libvirt-open {uri}", daemon=True).start()
    done.wait(timeout)
    with lock:
        if not done.is_set():
            result["gave_up"] = True
            raise HostUnreachable(uri, f"no answer to the connection attempt within {timeout:g} s")
    if result["error"] is not None:
        raise result["error"]
    return result["conn"]
