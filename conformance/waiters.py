"""The one place the harness waits. Every wait has a deadline and a named failure."""

import time
from typing import Callable, TypeVar

from conformance.errors import HarnessError, WaitTimeout

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float, what: str,
               interval: float = 0.1, detail: Callable[[], str] | None = None,
               fatal: tuple[type[BaseException], ...] = ()) -> T:
    """Poll ``predicate`` until it returns a truthy value and return that value.

    Exceptions raised by ``predicate`` count as "not yet" and the last one is
    reported, except those of the types in ``fatal``, which end the wait at once (e.g.
    HostUnreachable: the host was given up). On timeout raise :class:`WaitTimeout` naming
    ``what`` (phrase it as the failure, e.g. "agent not connected"), the deadline and the
    last value seen; ``detail`` adds context such as a console tail.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except (WaitTimeout, *fatal):
            raise
        except Exception as exc:  # noqa: BLE001 - any error means "not yet"
            last = exc
        if time.monotonic() >= deadline:
            extra = ""
            if detail is not None:
                try:
                    extra = detail()
                except Exception as exc:  # noqa: BLE001
                    extra = f"(detail unavailable: {exc})"
            raise WaitTimeout(what, timeout, last, extra)
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))


def wait_until_or_raise(predicate: Callable[[], T], timeout: float, what: str,
                        interval: float = 0.1, detail: Callable[[], str] | None = None) -> T:
    """Like :func:`wait_until`, but a :class:`HarnessError` from ``predicate`` ends the wait
    at once (use it when the predicate can tell that the awaited thing will never happen)."""
    def checked():
        try:
            return predicate()
        except HarnessError as exc:
            raise _Abort(exc) from None

    try:
        return wait_until(checked, timeout, what, interval, detail)
    except _Abort as abort:
        raise abort.error from None


class _Abort(WaitTimeout):
    def __init__(self, error):  # noqa: D107 - carrier for an error that ends a wait
        Exception.__init__(self, str(error))
        self.error = error
