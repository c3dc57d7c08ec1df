"""The ``nova`` driver: upstream Nova's libvirt driver code turns each request into XML.

Nova runs in one long-lived worker process (``nova_worker.py``, started on first use) so
that its import-time side effects (eventlet monkey-patching, oslo.config globals, the PyPI
``fixtures`` package that the project's own ``fixtures`` package would shadow) never enter
the harness process. The worker's interpreter is found by :func:`worker_python`.

Nova's XML is kept as Nova produced it except for what the contract supplies itself (see
``nova_boot.py`` and docs/nova-driver.md).
"""

from __future__ import annotations

import functools
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from conformance.contract import REJECTION_CODES, Rejected, Request
from conformance.drivers import nova_boot
from conformance.errors import DriverFault
from conformance.process import kill_group

PYTHON_ENV = "CONFORMANCE_NOVA_PYTHON"
WORKER = Path(__file__).with_name("nova_worker.py")
PROVISIONED = Path(__file__).resolve().parents[2] / ".venv-nova" / "bin" / "python"
START_TIMEOUT = 120.0   # importing Nova takes ~5 s on an idle 2-core machine
REQUEST_TIMEOUT = 60.0  # one _get_guest_xml takes ~20 ms
PROBE_TIMEOUT = 30.0
ENABLE = "`./run tests` or `./run certify --driver nova` installs it into .venv-nova"
# Run isolated (-I: no cwd, no PYTHONPATH), so a directory that happens to be called "nova"
# (the suite's own tests/nova, say) is never taken for upstream Nova: the package must be
# an installed distribution named nova that ships the libvirt driver module.
_PROBE = """
import importlib.metadata, importlib.util, pathlib, sys
spec = importlib.util.find_spec("nova")
if spec is None or not spec.origin:
    sys.exit("no package nova")
driver = pathlib.Path(spec.origin).parent / "virt" / "libvirt" / "driver.py"
if not driver.is_file():
    sys.exit(f"{spec.origin} is not upstream Nova: no nova/virt/libvirt/driver.py")
print(importlib.metadata.version("nova"))
"""


@functools.lru_cache(maxsize=None)
def nova_version_of(python: str) -> str:
    """The upstream Nova version ``python`` imports; raise ImportError saying why not."""
    if not os.access(python, os.X_OK):
        raise ImportError(f"{python} is not an executable")
    try:
        done = subprocess.run([python, "-I", "-c", _PROBE], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ImportError(f"{python}: probing for nova took over {PROBE_TIMEOUT:g} s") from None
    except OSError as exc:
        raise ImportError(f"{python}: {exc}") from None
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ImportError(f"{python} has no upstream Nova ({why})")
    return done.stdout.strip()


def worker_python() -> str:
    """The interpreter that runs Nova: ``$CONFORMANCE_NOVA_PYTHON``, else the .venv-nova that
    ``./run`` provisions, else this interpreter; each must really import upstream Nova.
    Raise ImportError naming what was tried and the command that installs Nova."""
    configured = os.environ.get(PYTHON_ENV)
    if configured:
        try:
            nova_version_of(configured)
        except ImportError as exc:
            raise ImportError(f"{PYTHON_ENV}: {exc}") from None
        return configured
    tried = []
    for candidate in (str(PROVISIONED), sys.executable):
        if candidate == str(PROVISIONED) and not PROVISIONED.exists():
            tried.append(f"{PROVISIONED.parent.parent} does not exist")
            continue
        try:
            nova_version_of(candidate)
            return candidate
        except ImportError as exc:
            tried.append(str(exc))
    raise ImportError(f"upstream Nova not found ({PYTHON_ENV} unset; {'; '.join(tried)}); {ENABLE}")


class _Worker:
    """The worker process and its line protocol; every read is bounded."""

    def __init__(self, python: str):
        self._stderr = tempfile.TemporaryFile()
        # Nova's instances_path; removed here, also when the worker had to be killed.
        self.instances_path = tempfile.mkdtemp(prefix="cfm-nova-")
        self.proc = subprocess.Popen(
            [python, "-I", str(WORKER), self.instances_path], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True)
        self._buffer = b""
        hello = self.receive(START_TIMEOUT, "nova worker did not start")
        if not hello.get("ready"):
            self.close()
            raise DriverFault("crash", f"nova worker failed to start: {hello.get('fault', hello)}")
        self.nova_version = hello.get("nova", "?")

    def stderr_tail(self, limit: int = 2000) -> str:
        self._stderr.seek(0, os.SEEK_END)
        size = self._stderr.tell()
        self._stderr.seek(max(0, size - limit))
        return self._stderr.read().decode(errors="replace")

    def receive(self, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise DriverFault("timeout", f"{what} within {timeout:g} s; worker killed")
                if sel.select(left):
                    chunk = os.read(fd, 1 << 20)
                    if not chunk:
                        try:
                            code = self.proc.wait(timeout=5)
                        except subprocess.TimeoutExpired:
                            code = "killed"
                        self.kill()
                        raise DriverFault("crash", f"nova worker exited ({code}): "
                                                   f"{self.stderr_tail()}")
                    self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            return json.loads(line)
        except ValueError:
            raise DriverFault("bad-output", f"nova worker printed {line[:200]!r}") from None

    def ask(self, request: Request, api_validation: bool) -> dict:
        message = {"request": request.to_dict(), "api_validation": api_validation}
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise DriverFault("crash", f"nova worker is gone: {self.stderr_tail()}") from None
        return self.receive(REQUEST_TIMEOUT, "nova worker gave no answer")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker's process group at once (it runs in its own session)."""
        kill_group(self.proc, wait=10)
        shutil.rmtree(self.instances_path, ignore_errors=True)

    def close(self) -> None:
        """End the worker (EOF on stdin, killed after 10 s) and remove its files."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        shutil.rmtree(self.instances_path, ignore_errors=True)
        self._stderr.close()


class NovaDriver:
    """Driver ``nova``: Nova 34's API checks + ``LibvirtDriver._get_guest_xml``, per lifecycle
    operation (protocol 3: the checks and compute-side state Nova uses for each operation,
    see ``nova_build``).

    ``api_validation=False`` skips Nova's extra-spec validators (flavors stored before API
    microversion 2.86), as ``ReferenceDriver(api_validation=False)`` does.
    """

    name = "nova"
    protocol = 3
    bounds_requests = True  # its worker's own deadline (conformance.drivers.hang)
    timeout = REQUEST_TIMEOUT

    def __init__(self, python: str | None = None, *, api_validation: bool = True):
        self.python = python or worker_python()
        self.api_validation = api_validation
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def _live_worker(self) -> _Worker:
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:
                self._worker.close()
            self._worker = None
            self._worker = _Worker(self.python)
        return self._worker

    @property
    def nova_version(self) -> str:
        with self._lock:
            return self._live_worker().nova_version

    @property
    def nova_release(self) -> str:
        """The release it is judged on (``catalogue.expected.expected_release``): the Nova its
        interpreter imports (known without starting the worker)."""
        return nova_version_of(self.python)

    def build(self, request: Request) -> str:
        """Nova's domain XML with the contract's boot parameters; raises Rejected."""
        with self._lock:
            answer = self._live_worker().ask(request, self.api_validation)
        if "xml" in answer:
            return nova_boot.apply(answer["xml"], request)
        if answer.get("error") in REJECTION_CODES:
            raise Rejected(answer["error"], answer.get("message", ""))
        raise DriverFault("crash", f"nova raised: {answer.get('fault', answer)}")

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def __enter__(self) -> "NovaDriver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def lenient() -> NovaDriver:
    """``conformance.drivers.nova:lenient``: Nova without extra-spec API validation."""
    return NovaDriver(api_validation=False)
