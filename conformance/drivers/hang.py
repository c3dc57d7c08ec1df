"""Bounded requests, and drivers declared hung.

Every request to a driver is bounded: ``exec:``, ``exec-stream:`` and ``nova`` drivers bound
their own (process groups killed at the deadline); an in-process driver (``module:attr``) runs
its ``build()`` in a helper thread that the harness stops waiting for at the deadline (Python
cannot stop the thread: it is left running, a daemon). A driver whose requests time out
:data:`HUNG_AFTER` times in a row is declared hung: the request that timed out last raises
:class:`~conformance.errors.DriverHung` naming the driver, the timeouts and the deadline, and
so does every later request, at once, without reaching the driver (a hung driver cost 30 s
per request: hours for the catalogue). An answer of any kind (XML, a rejection, another
fault) in between resets the count.

A session's xdist workers each hold their own instance of the judged driver: its declaration
is written to a file the session shares (:func:`share`), so the other workers stop sending
requests as soon as they see it instead of timing out on their own.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from conformance.errors import DriverFault, DriverHung

HUNG_AFTER = 3  # timeouts in a row that declare a driver hung
DEFAULT_TIMEOUT = 30.0  # seconds for an in-process build() when none was configured
_SESSION: dict = {"shared": None}  # the file this process's session shares (its judged driver)


class Watch:
    """One driver's consecutive timeouts and, once declared, why it is hung."""

    def __init__(self, name: str, timeout: float | None = None, shared: Path | None = None):
        self.name, self.timeout, self.shared = name, timeout, shared
        self.in_a_row = 0
        self.hung: str | None = None
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise DriverHung if this driver was declared hung (here, or by another process
        sharing the declaration)."""
        if self.hung is None and self.shared is not None:
            self.hung = _read_declaration(self.shared, self.name)
        if self.hung is not None:
            raise DriverHung(self.hung)

    def answered(self) -> None:
        with self._lock:
            self.in_a_row = 0

    def timed_out(self, fault: DriverFault, timeout: float | None) -> None:
        """Count a timeout; the HUNG_AFTER-th in a row declares the driver hung (DriverHung)."""
        with self._lock:
            self.in_a_row += 1
            if self.in_a_row < HUNG_AFTER or self.hung is not None:
                return
            deadline = f" within {timeout:g} s each" if timeout else ""
            self.hung = (f"driver {self.name!r} is hung: {HUNG_AFTER} requests in a row got no "
                         f"answer{deadline}; its later requests are not sent (the last: "
                         f"{fault.detail})")[:1500]
        if self.shared is None or _declare(self.shared, self.name, self.hung):
            _say(self.hung)  # once per session: the first process to declare it
        raise DriverHung(self.hung) from fault


_WATCHES: dict[int, tuple[object, Watch]] = {}  # id(driver) -> (driver, its watch)
_WATCHES_LOCK = threading.Lock()


def watch(driver, timeout: float | None = None, shared: Path | str | None = None) -> Watch:
    """The :class:`Watch` of ``driver`` (made on first use); ``timeout`` bounds an in-process
    driver's build(), ``shared`` is the file through which the processes of a session share
    its declaration."""
    with _WATCHES_LOCK:
        known = _WATCHES.get(id(driver))
        if known is None or known[0] is not driver:
            known = (driver, Watch(str(getattr(driver, "name", type(driver).__name__))))
            _WATCHES[id(driver)] = known
    found = known[1]
    if timeout is not None:
        found.timeout = timeout
    if shared is not None:
        found.shared = Path(shared)
    return found


def share(path: Path | str | None) -> None:
    """The file this process's session shares declarations through (None: none)."""
    _SESSION["shared"] = Path(path) if path else None


def shared_file() -> Path | None:
    return _SESSION["shared"]


def call(driver, request):
    """``driver.build(request)``, bounded, counted by the driver's watch; DriverHung once the
    driver is declared hung."""
    found = watch(driver)
    found.check()
    timeout = getattr(driver, "timeout", None) if _bounds_itself(driver) else found.timeout
    try:
        xml = driver.build(request) if _bounds_itself(driver) else _in_thread(driver, request, timeout)
    except DriverFault as fault:
        if fault.kind == "timeout":
            found.timed_out(fault, timeout)
        else:
            found.answered()
        raise
    except Exception:
        found.answered()
        raise
    found.answered()
    return xml


def _bounds_itself(driver) -> bool:
    """Drivers that enforce their own deadline: exec, exec-stream and Nova's worker."""
    return bool(getattr(driver, "bounds_requests", False))


def _in_thread(driver, request, timeout: float | None):
    """``driver.build(request)`` in a daemon thread; DriverFault("timeout") past ``timeout``."""
    timeout = timeout or DEFAULT_TIMEOUT
    box: dict = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["xml"] = driver.build(request)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"driver {getattr(driver, 'name', '')}"[:60], daemon=True).start()
    if not done.wait(timeout):
        raise DriverFault("timeout", f"build() returned nothing within {timeout:g} s (its thread "
                          "is left running: an in-process driver cannot be stopped)")
    if "error" in box:
        raise box["error"]
    return box["xml"]


def _read_declaration(path: Path, name: str) -> str | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data.get(name) if isinstance(data, dict) else None


def _declare(path: Path, name: str, why: str) -> bool:
    """Add ``name``'s declaration to the shared file (atomically: workers may read it now);
    whether this process declared it first."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict) or name in data:
        return False
    data[name] = why
    temp = path.with_name(f"{path.name}.{os.getpid()}")
    try:
        temp.write_text(json.dumps(data))
        os.replace(temp, path)
    except OSError:
        pass
    return True


def _say(why: str) -> None:
    try:
        sys.stderr.write(f"conformance: {why}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
