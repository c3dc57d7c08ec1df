"""kill_orphans never kills the harness itself (a child sharing its process group)."""

import subprocess
import sys

SCRIPT = """
import os, subprocess, sys, time
from conformance.stopping import kill_orphans
same_group = subprocess.Popen(["sleep", "30"])                         # like libvirt's ssh
own_group = subprocess.Popen(["sleep", "30"], start_new_session=True)  # like a driver
killed = kill_orphans(deadline=5)
print(sorted(killed) == sorted([same_group.pid, own_group.pid]), flush=True)
"""


def test_child_in_our_group_is_killed_alone():
    """A child in the harness's own process group (libvirt's ssh for a qemu+ssh:// URI) is
    killed by pid; killing its group would kill the harness (it did: exit -9 at the end of
    a remote certify). Children in their own groups are killed with their group."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30,
                          start_new_session=True)
    assert (done.returncode, done.stdout) == (0, "True\n"), done.stderr


SPARE = """
import subprocess
from conformance.stopping import children, kill_orphans
ours = subprocess.Popen(["sleep", "30"])                                  # certify's own ssh
ours_now = children()
orphan = subprocess.Popen(["sleep", "30"], start_new_session=True)        # a run's leftover
killed = kill_orphans(deadline=5, spare=ours_now)
print(killed == [orphan.pid], ours.poll() is None, flush=True)
ours.kill()
"""


def test_children_from_before_a_run_are_spared():
    """What existed before the pytest child started (certify's own qemu+ssh:// transport,
    still in use) is spared; what appeared since is killed."""
    done = subprocess.run([sys.executable, "-c", SPARE], capture_output=True, text=True, timeout=30,
                          start_new_session=True)
    assert (done.returncode, done.stdout) == (0, "True True\n"), done.stderr


UNKILLABLE = """
import os, signal, subprocess, time
from conformance import stopping
child = subprocess.Popen(["sleep", "30"], start_new_session=True)
real_kill = os.kill
os.kill = os.killpg = lambda pid, sig: None   # a child stuck in the kernel ignores SIGKILL a while
started = time.monotonic()
killed = stopping.kill_orphans(deadline=1)
print(round(time.monotonic() - started) <= 5, child.pid not in killed, flush=True)
real_kill(child.pid, signal.SIGKILL)
child.wait()
"""


def test_a_child_that_does_not_die_is_waited_for_until_the_deadline_only():
    """A killed child that does not exit (uninterruptible sleep, say) is not waited for past
    kill_orphans' deadline (waitpid without WNOHANG waited as long as it lived)."""
    done = subprocess.run([sys.executable, "-c", UNKILLABLE], capture_output=True, text=True,
                          timeout=20, start_new_session=True)
    assert (done.returncode, done.stdout) == (0, "True True\n"), done.stderr
