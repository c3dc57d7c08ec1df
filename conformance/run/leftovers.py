"""Remove leftovers (``conformance.lab.cleanup.cleanup``) on several hosts at once, each
bounded in time; a host that fails or does not answer is reported, the others still cleaned.
What a stopped certification does last (:func:`clean_after_stop`), and ``conformance
cleanup``.
"""

from __future__ import annotations

import sys
import threading

from conformance.errors import HarnessError
from conformance.waiters import wait_until


def clean_one(uri: str, options: dict):
    """``conformance.lab.cleanup.cleanup`` on the host of ``uri`` (its domains, harness
    volumes, QEMU logs and run dirs); ``options``: run_id, force."""
    from conformance.lab.cleanup import cleanup
    from conformance.lab.connection import open_connection
    from conformance.lab.host import host_access
    conn = open_connection(uri)
    host = host_access(uri)
    try:
        return cleanup(conn, host=host, **options)
    finally:
        host.close()
        conn.close()


def clean_reports(uris: list[str], timeout: float, **options) -> list[tuple[str, object, str | None]]:
    """(uri, CleanupReport or None, error or None) per host, in the given order.

    Hosts are cleaned in parallel daemon threads (a libvirt call cannot be cancelled: a host
    still busy after ``timeout`` s is reported as not answering and abandoned).
    """
    found: dict[str, tuple] = {}

    def work(uri: str) -> None:
        try:
            found[uri] = (clean_one(uri, options), None)
        except Exception as exc:  # noqa: BLE001 - reported per host, never fatal
            found[uri] = (None, str(exc) or type(exc).__name__)

    for uri in uris:
        threading.Thread(target=work, args=(uri,), name=f"cleanup {uri}", daemon=True).start()
    try:
        wait_until(lambda: len(found) == len(uris), timeout, "host cleanup did not finish", interval=0.05)
    except HarnessError:
        pass
    return [(uri, *found.get(uri, (None, f"no answer within {timeout:g} s"))) for uri in uris]


def clean_hosts(uris: list[str], timeout: float) -> list[tuple[str, list[str], str | None]]:
    """(uri, removed domain names, error or None) per host: the guests of dead runs."""
    return [(uri, report.removed_domains if report else [], error)
            for uri, report, error in clean_reports(uris, timeout)]


CLEANUP_TIMEOUT = 60.0  # seconds for the leftovers of a stopped run to be removed from a host


def clean_after_stop(uris: list[str], timeout: float = CLEANUP_TIMEOUT) -> None:
    """After a stopped run: remove guests of dead runs on every host (in parallel, each
    bounded by ``timeout`` s); a failure is reported per host, never fatal."""
    for uri, removed, error in clean_hosts(uris, timeout):
        where = f" on {uri}" if len(uris) > 1 else ""
        for name in removed:
            print(f"conformance: removed leftover guest {name}{where}", file=sys.stderr)
        if error:
            print(f"conformance: cleanup after the stop failed{where} ({error}); run `conformance "
                  f"cleanup{' --host ' + uri if len(uris) > 1 else ''}`", file=sys.stderr)
