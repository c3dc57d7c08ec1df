"""Which Nova releases install and run here: provision each (newest first, one at a time),
start its worker and build one request. Prints one line per release with the wall times,
and where that release raises for difference D1 (docs/nova-differences.md: a non-integer
hw_rng:rate_period without API validation crashes the build).

    .venv/bin/python benchmarks/nova_releases.py 34.0.0 33.0.2 32.2.1 ...
"""

from __future__ import annotations

import sys
import time

from conformance.catalogue import CASES, by_id
from conformance.drivers.nova import NovaDriver
from conformance.drivers.nova_versions import provision
from conformance.errors import DriverFault, HarnessError
from conformance.report.matrix_table import nova_source

D1 = by_id("3aad42b2-36f4-4fcb-8a56-8f8853129cc8")  # rng/rate-period-not-int


def d1(python: str) -> str:
    with NovaDriver(python=python, api_validation=False) as driver:
        try:
            driver.build(D1.request())
        except DriverFault as exc:
            return f"D1 raises at {nova_source(exc.detail)}: {exc.detail.strip().splitlines()[-1][:100]}"
    return "D1 does not reproduce (accepted)"


def main(versions: list[str]) -> int:
    for version in versions:
        started = time.monotonic()
        try:
            python = provision(version)
        except HarnessError as exc:
            print(f"{version}: does not install ({time.monotonic() - started:.0f} s): {exc}", flush=True)
            continue
        installed = time.monotonic() - started
        try:
            with NovaDriver(python=python) as driver:
                driver.build(CASES[0].request())
                print(f"{version}: ok (provision {installed:.0f} s, start + one build "
                      f"{time.monotonic() - started - installed:.1f} s); {d1(python)}", flush=True)
        except Exception as exc:  # noqa: BLE001 - the reason is the result
            print(f"{version}: installs ({installed:.0f} s) but does not run: "
                  f"{type(exc).__name__}: {str(exc)[-1500:]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
