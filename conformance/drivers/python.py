"""Python drivers given as ``module:attr`` (attr: a driver object, a class, or a factory)."""

from __future__ import annotations

import importlib
import inspect

from conformance.contract import Driver
from conformance.errors import DriverLoadError


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def instantiate(obj, spec: str) -> Driver:
    """``obj`` itself if it has ``build``; otherwise call it (class or factory) once."""
    if inspect.isclass(obj) or (callable(obj) and not hasattr(obj, "build")):
        try:
            obj = obj()
        except Exception as exc:  # noqa: BLE001 - any failure is a load failure
            raise DriverLoadError(f"cannot create driver {spec!r}: {_one_line(exc)}") from None
    if not callable(getattr(obj, "build", None)):
        raise DriverLoadError(f"{spec!r} is not a driver: it has no build(request) method")
    if not isinstance(getattr(obj, "name", None), str):
        try:
            obj.name = spec
        except AttributeError:
            raise DriverLoadError(f"{spec!r} is not a driver: it has no name") from None
    return obj


def load(spec: str) -> Driver:
    """Import ``module`` and resolve ``attr`` (dotted attributes allowed)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise DriverLoadError(f"bad driver spec {spec!r}: expected 'module:attr'")
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - ImportError, SyntaxError, errors at import time
        raise DriverLoadError(f"cannot import driver module {module_name!r}: {_one_line(exc)}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise DriverLoadError(f"driver module {module_name!r} has no attribute {attr!r}") from None
    return instantiate(obj, spec)
