"""Which Nova releases install and run here: provision each (newest first, one at a time),
start its worker and build one request. Prints one line per release with the wall times.

    .venv/bin/python benchmarks/nova_releases.py 34.0.0 33.0.2 32.2.1 ...
"""

from __future__ import annotations

import sys
import time

from conformance.catalogue import CASES
from conformance.drivers.nova import NovaDriver
from conformance.drivers.nova_versions import provision
from conformance.errors import HarnessError


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
                      f"{time.monotonic() - started - installed:.1f} s)", flush=True)
        except Exception as exc:  # noqa: BLE001 - the reason is the result
            print(f"{version}: installs ({installed:.0f} s) but does not run: "
                  f"{type(exc).__name__}: {str(exc)[-1500:]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
