"""Loading and running drivers: ``reference``, ``module:attr``, ``exec:COMMAND``,
``exec-stream:COMMAND``, ``nova``.

    driver = load_driver("exec:/usr/bin/my-driver --flag")
    outcome = run_driver(driver, request)   # Accepted | Rejection, or raises DriverFault
"""

from conformance.drivers.load import load_driver
from conformance.drivers.run import MAX_OUTPUT_BYTES, run_driver

__all__ = ["load_driver", "run_driver", "MAX_OUTPUT_BYTES"]
