"""conformance.process: what a forked child of the (threaded) harness may do."""

import subprocess
import sys

from conformance import process

PDEATHSIG = """
import ctypes, signal
sig = ctypes.c_int()
ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)   # PR_GET_PDEATHSIG
print(sig.value == signal.SIGINT, flush=True)
"""


def test_stop_with_parent_resolves_prctl_before_the_fork(tmp_path, monkeypatch):
    """Between fork and exec a child of a threaded process may only make async-signal-safe
    calls: ``dlopen`` (ctypes.CDLL) can deadlock on the loader lock another thread held at
    the fork. prctl is looked up when the preexec_fn is made; the child only calls it, and
    gets its parent-death signal."""
    preexec = process.stop_with_parent()
    marker = tmp_path / "dlopen-in-child"

    def no_dlopen(*args, **kwargs):
        marker.write_text("ctypes.CDLL called after the fork")
        raise OSError("dlopen after fork")

    monkeypatch.setattr(process.ctypes, "CDLL", no_dlopen)
    done = subprocess.run([sys.executable, "-c", PDEATHSIG], preexec_fn=preexec,
                          capture_output=True, text=True, timeout=60)
    assert not marker.exists(), marker.read_text()
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr
