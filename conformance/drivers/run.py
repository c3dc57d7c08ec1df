"""``run_driver``: one request through one driver, misbehaviour turned into DriverFault."""

from __future__ import annotations

from conformance.contract import (REJECTION_CODES, Accepted, Driver, Outcome, Rejected, Rejection,
                                  Request, driver_protocol)
from conformance.drivers import hang
from conformance.drivers.output import MAX_OUTPUT_BYTES, parse_domain
from conformance.errors import DriverFault, DriverHung, RequestInvalid

__all__ = ["run_driver", "MAX_OUTPUT_BYTES"]


def run_driver(driver: Driver, request: Request) -> Outcome:
    """Accepted(xml) or Rejection; raise DriverFault when the driver misbehaves, DriverHung
    once it was declared hung (:mod:`conformance.drivers.hang`: every request is bounded).

    A protocol-2 request (a lifecycle operation) is never sent to a protocol-1 driver:
    RequestInvalid (the harness's mistake, not the driver's).
    """
    if request.protocol > driver_protocol(driver):
        raise RequestInvalid(f"a protocol-{request.protocol} request ({request.operation}) for "
                             f"driver {getattr(driver, 'name', driver)!r}, which speaks protocol "
                             f"{driver_protocol(driver)}")
    try:
        xml = hang.call(driver, request)
    except Rejected as exc:
        rejection: Rejection = exc.rejection
        if rejection.code not in REJECTION_CODES:
            raise DriverFault("bad-rejection", f"unknown rejection code {rejection.code!r} "
                              f"(known: {', '.join(sorted(REJECTION_CODES))})") from None
        return rejection
    except (DriverFault, DriverHung):
        raise
    except Exception as exc:  # noqa: BLE001 - any other exception is a driver crash
        raise DriverFault("crash", f"{type(exc).__name__}: {exc}"[:1000]) from exc
    if not isinstance(xml, (str, bytes)):
        raise DriverFault("bad-output", f"build() returned {type(xml).__name__}, expected str")
    parse_domain(xml)
    return Accepted(xml if isinstance(xml, str) else xml.decode("utf-8", "replace"))
