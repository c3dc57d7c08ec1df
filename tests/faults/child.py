"""A small pytest session in a subprocess (own process group) that faults are injected into.

The child's tests use the harness fixtures (``fixtures.plugin``). An autouse fixture in the
child's conftest records each process's run id, so the parent can check afterwards that
nothing of that run is left on the host.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from conformance.lab.cleanup import owned_domains
from conformance.process import default_signals, kill_group, signal_group
from conformance.waiters import wait_until
from faults.leftovers import host_paths

CHILD_CONFTEST = '''
import os
from pathlib import Path

import pytest

RECORD = Path(os.environ["CFM_FAULT_RECORD"])


@pytest.fixture(autouse=True)
def _record_run(lab):
    """Tell the parent this process's run id (before any guest is booted)."""
    (RECORD / f"run-{lab.run.id}").write_text(str(os.getpid()))


def reached(step: str) -> None:
    """Tell the parent this test reached ``step``."""
    (RECORD / f"step-{step}-{os.getpid()}").write_text("")
'''

PYTEST_INI = """[pytest]
addopts = -p no:cacheprovider
markers =
    functional: boots guests
"""


class ChildSession:
    """``python -m pytest`` on a test file written to ``tmp_path``; every wait is bounded."""

    def __init__(self, tmp_path: Path, test_source: str, args=(), lab=None, accel: str = "qemu"):
        self.dir = tmp_path / "child"
        self.record = tmp_path / "record"
        self.dir.mkdir()
        self.record.mkdir()
        (self.dir / "pytest.ini").write_text(PYTEST_INI)
        (self.dir / "conftest.py").write_text(CHILD_CONFTEST)
        (self.dir / "test_child.py").write_text(textwrap.dedent(test_source))
        self.output_path = tmp_path / "child-output.txt"
        self.lab = lab
        self.paths: set[str] = set()
        env = {**os.environ, "CFM_FAULT_RECORD": str(self.record),
               "CONFORMANCE_RESULTS_DIR": str(tmp_path / "results")}
        argv = [sys.executable, "-m", "pytest", "-q", "-s", "--accel", accel,
                "-o", "timeout=300", *args, "test_child.py"]
        if lab is not None:
            argv[4:4] = ["--libvirt-uri", lab.uri]
        with open(self.output_path, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=self.dir, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=default_signals)

    # -- what the child did ------------------------------------------------------------
    def run_ids(self) -> set[str]:
        return {p.name[4:] for p in self.record.glob("run-*")}

    def pids(self) -> set[int]:
        return {int(p.read_text()) for p in self.record.glob("run-*")} | {self.proc.pid}

    def reached(self, step: str) -> int:
        return len(list(self.record.glob(f"step-{step}-*")))

    def output(self) -> str:
        return self.output_path.read_bytes().decode(errors="replace")[-4000:]

    def domains(self, conn):
        """The child's marked domains now (and remember their console files and sockets)."""
        mine = [d for d, o in owned_domains(conn) if o.run in self.run_ids()]
        for domain in mine:
            self.paths |= host_paths(domain)
        return mine

    # -- waits -------------------------------------------------------------------------
    def wait_for(self, predicate, timeout: float, what: str):
        """Wait for ``predicate`` while the child runs; fail naming ``what`` and its output."""
        def ready():
            if predicate():
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"child exited ({self.proc.returncode}) before {what}:\n"
                                     + self.output())
            return False
        try:
            return wait_until(ready, timeout, what, interval=0.02)
        except Exception:
            self.kill()
            raise

    def wait_for_guest_booting(self, conn, timeout: float = 120) -> None:
        """Until a guest of the child runs QEMU (right after create(), before its marker)."""
        self.wait_for(lambda: any(d.isActive() for d in self.domains(conn)), timeout,
                      "child started no guest")

    def signal(self, signum: int, group: bool = True) -> None:
        if group:
            signal_group(self.proc, signum)
        else:
            self.proc.send_signal(signum)

    def finish(self, timeout: float = 120) -> int:
        """Wait (bounded) for the child to exit; kill its process group if it does not."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"child did not exit within {timeout} s:\n{self.output()}")

    def kill(self) -> None:
        kill_group(self.proc, wait=30)
