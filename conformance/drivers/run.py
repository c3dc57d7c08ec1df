"""``run_driver``: one request through one driver, misbehaviour turned into DriverFault."""

from __future__ import annotations

from conformance.contract import REJECTION_CODES, Accepted, Driver, Outcome, Rejected, Rejection, Request
from conformance.drivers.output import MAX_OUTPUT_BYTES, parse_domain
from conformance.errors import DriverFault

__all__ = ["run_driver", "MAX_OUTPUT_BYTES"]


def run_driver(driver: Driver, request: Request) -> Outcome:
    """Accepted(xml) or Rejection; raise DriverFault when the driver misbehaves."""
    try:
        xml = driver.build(request)
    except Rejected as exc:
        rejection: Rejection = exc.rejection
        if rejection.code not in REJECTION_CODES:
            raise DriverFault("bad-rejection", f"unknown rejection code {rejection.code!r} "
                              f"(known: {', '.join(sorted(REJECTION_CODES))})") from None
        return rejection
    except DriverFault:
        raise
    except Exception as exc:  # noqa: BLE001 - any other exception is a driver crash
        raise DriverFault("crash", f"{type(exc).__name__}: {exc}"[:1000]) from exc
    if not isinstance(xml, (str, bytes)):
        raise DriverFault("bad-output", f"build() returned {type(xml).__name__}, expected str")
    parse_domain(xml)
    return Accepted(xml if isinstance(xml, str) else xml.decode("utf-8", "replace"))
