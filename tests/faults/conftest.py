"""Fixtures of the fault-injection tests: child sessions and the leftover check."""

from __future__ import annotations

import pytest

from faults.certify_child import CertifyRun
from faults.child import ChildSession
from faults.leftovers import leftovers


@pytest.fixture
def child_session(tmp_path, lab, accelerator):
    """``child_session(source, *args)`` starts a child pytest session; killed at teardown."""
    started = []

    def start(source: str, *args) -> ChildSession:
        child = ChildSession(tmp_path, source, args, lab=lab, accel=accelerator.virt_type)
        started.append(child)
        return child

    yield start
    from conformance.lab.cleanup import cleanup
    for child in started:
        child.kill()
        for run_id in child.run_ids():  # a failed test must not leak the child's guests
            cleanup(lab.connected(), run_id=run_id)


def assert_nothing_left(conn, child: ChildSession) -> None:
    """No marked domain, run dir, console log, QEMU log or socket of the child's runs."""
    assert child.run_ids(), "the child recorded no run id:\n" + child.output()
    left = leftovers(conn, child.run_ids(), child.pids(), child.paths)
    assert left == [], f"left behind: {left}\nchild output:\n{child.output()}"


@pytest.fixture
def certify(tmp_path, lab):
    """``certify(*args, inject="")`` starts `conformance certify` (a CertifyRun); killed and
    its guests removed at teardown."""
    runs = []

    def start(*args, inject: str = "") -> CertifyRun:
        run = CertifyRun(tmp_path, args, lab.connected(), inject)
        runs.append(run)
        return run

    yield start
    from conformance.lab.cleanup import cleanup
    for run in runs:  # a failed test must not leak the run's guests
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.wait(30)
        for run_id in run.run_ids:
            cleanup(lab.connected(), run_id=run_id)
