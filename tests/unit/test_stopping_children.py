"""kill_orphans spares children still supervised (several hosts' pytest children side by
side) and kills the real orphans."""

import signal
import subprocess
import sys

from conformance.stopping import StopSignals, kill_orphans, start_child, supervise


def test_kill_orphans_spares_a_supervised_child_and_kills_an_unregistered_one():
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    supervised = start_child(sleeper)
    stray = subprocess.Popen(sleeper, start_new_session=True)  # stands for an orphan
    try:
        killed = kill_orphans(deadline=5)
        assert stray.pid in killed and supervised.pid not in killed
        assert supervised.poll() is None
    finally:
        for proc in (supervised, stray):
            try:
                proc.send_signal(signal.SIGKILL)
            except ProcessLookupError:
                pass
    with StopSignals() as stop:
        assert supervise(supervised, stop, grace=5) == -9
    # reaped and unregistered: a later sweep has nothing of it to spare or kill
    assert supervised.pid not in kill_orphans(deadline=1)


def test_one_stop_request_stops_every_supervised_child():
    """A fleet's hosts: each thread supervises its own child; one SIGINT to certify stops all."""
    import threading
    import time

    from conformance.process import default_signals
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    children = [start_child(sleeper, preexec_fn=default_signals) for _ in range(3)]
    statuses = {}
    with StopSignals() as stop:
        threads = [threading.Thread(target=lambda p=p: statuses.__setitem__(p.pid, supervise(p, stop, grace=20)))
                   for p in children]
        for thread in threads:
            thread.start()
        sent = time.monotonic()
        stop._handle(signal.SIGINT, None)
        for thread in threads:
            thread.join(15)
    assert time.monotonic() - sent < 10
    assert statuses == {p.pid: -signal.SIGINT for p in children}
