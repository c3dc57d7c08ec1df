"""``load_driver(spec)``: turn a driver spec string into a driver object.

Specs: ``reference``; ``nova`` (optional extra, imported only when asked for);
``nova==VERSION`` / ``nova@VERSION`` (that Nova release in its own cached virtualenv);
``exec:COMMAND`` (an external program speaking docs/driver-protocol.md, protocol 1, one
process per request; ``exec2:COMMAND``, ``exec3:COMMAND``: protocol 2, 3);
``exec-stream:COMMAND`` / ``exec2-stream:COMMAND`` / ``exec3-stream:COMMAND`` (the same
program kept running, one JSON line per request);
``module:attr`` (a Python driver object, class or factory).
"""

from __future__ import annotations

import importlib

from conformance.contract import Driver
from conformance.drivers import exec as exec_driver
from conformance.drivers import exec_stream
from conformance.drivers import python as python_driver
from conformance.errors import DriverLoadError


def _load_nova() -> Driver:
    try:
        module = importlib.import_module("conformance.drivers.nova")
    except ImportError as exc:
        raise DriverLoadError(f"driver 'nova' is unavailable ({exc}); "
                              "`./run certify --driver nova` installs Nova into .venv-nova") from None
    for name in ("load", "NovaDriver", "driver"):
        if hasattr(module, name):
            return python_driver.instantiate(getattr(module, name), "nova")
    raise DriverLoadError("conformance.drivers.nova defines no load(), NovaDriver or driver")


def load_driver(spec: str, *, exec_timeout: float = exec_driver.DEFAULT_TIMEOUT) -> Driver:
    """Return the driver named by ``spec``; raise DriverLoadError with one clear line."""
    spec = spec.strip()
    if spec == "reference":
        from conformance.reference import ReferenceDriver
        return ReferenceDriver()
    if spec == "nova":
        return _load_nova()
    if spec.startswith(("nova==", "nova@")):
        from conformance.drivers import nova_versions
        return nova_versions.load(spec)
    for prefix, protocol in (("exec-stream:", 1), ("exec2-stream:", 2), ("exec3-stream:", 3)):
        if spec.startswith(prefix):
            return exec_stream.StreamDriver.from_command(spec[len(prefix):], timeout=exec_timeout,
                                                         protocol=protocol)
    for prefix, protocol in (("exec:", 1), ("exec2:", 2), ("exec3:", 3)):
        if spec.startswith(prefix):
            return exec_driver.ExecDriver.from_command(spec[len(prefix):], timeout=exec_timeout,
                                                       protocol=protocol)
    if ":" in spec:
        return python_driver.load(spec)
    raise DriverLoadError(f"unknown driver spec {spec!r}: expected 'reference', 'nova', 'nova==X.Y.Z', "
                          "'exec:COMMAND', 'exec2:COMMAND', 'exec3:COMMAND', 'exec-stream:COMMAND', "
                          "'exec2-stream:COMMAND', 'exec3-stream:COMMAND' or 'module:attr'")
