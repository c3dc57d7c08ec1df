"""The nova worker: a long-lived process that runs Nova on requests, one JSON line each.

Started by ``conformance.drivers.nova.NovaDriver`` as ``PYTHON -I <this file> [INSTANCES_PATH]``
so that neither the harness's packages (the project's own ``fixtures`` package would shadow the PyPI
``fixtures`` that Nova's test fixtures need) nor Nova's import-time side effects (eventlet,
oslo.config globals) cross between the two processes. It imports only the standard library
and ``nova_build.py`` and ``nova_operations.py`` next to it (loaded by path; the second runs
the protocol-3 operations with the first's helpers).

Protocol on stdin/stdout, one JSON object per line:
- first line out: ``{"ready": true, "nova": VERSION}`` (or ``{"fault": TEXT}`` and exit 1)
- in: ``{"request": REQUEST, "api_validation": BOOL}`` (REQUEST in its JSON form,
  docs/driver-protocol.md); out: ``{"xml": TEXT}``,
  ``{"error": CODE, "message": TEXT}`` or ``{"fault": TEXT}`` (unexpected Nova exception).
The worker exits when stdin closes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import tempfile
import traceback


def _load(name: str):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"conformance_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _send(out, message: dict) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def main() -> int:
    # Nova logs and warns on stdout/stderr; keep stdout for the protocol only.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Nova's instances_path: argv[1] (made and removed by the driver), else a temp dir.
    given = sys.argv[1] if len(sys.argv) > 1 else None
    with contextlib.nullcontext(given) if given else \
            tempfile.TemporaryDirectory(prefix="cfm-nova-") as instances_path:
        try:
            build, operations = _load("nova_build"), _load("nova_operations")
            env = build.NovaEnvironment(instances_path)
        except Exception:  # noqa: BLE001 - reported to the driver, then exit
            _send(out, {"fault": traceback.format_exc()})
            return 1
        _send(out, {"ready": True, "nova": build.nova_version()})
        try:
            for line in sys.stdin:
                if not line.strip():
                    continue
                try:
                    message = json.loads(line)
                    request, validation = message["request"], message["api_validation"]
                    if request.get("operation") in operations.OPERATIONS:
                        xml = operations.build(env, request, validation, build)
                    else:
                        xml = build.build(env, request, validation)
                    _send(out, {"xml": xml})
                except build.Rejection as exc:
                    _send(out, {"error": exc.code, "message": exc.message})
                except Exception:  # noqa: BLE001 - a driver fault, reported per request
                    _send(out, {"fault": traceback.format_exc()})
        finally:
            env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
