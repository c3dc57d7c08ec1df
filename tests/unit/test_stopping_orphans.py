"""kill_orphans never kills the harness itself nor its own live children."""

import subprocess
import sys

SCRIPT = """
import os, subprocess, sys, time
from conformance.stopping import kill_orphans
same_group = subprocess.Popen(["sleep", "30"])                         # like libvirt's ssh
own_group = subprocess.Popen(["sleep", "30"], start_new_session=True)  # like a driver
started = time.monotonic()
killed = kill_orphans(deadline=5)
print(killed == [own_group.pid], same_group.poll() is None, time.monotonic() - started < 2,
      flush=True)
same_group.kill()
"""


def test_child_in_our_group_is_spared_others_are_killed():
    """A child in the harness's own process group (libvirt's ssh for a live qemu+ssh://
    connection) is ours and in use: spared, without waiting out the deadline (killing its
    group killed the harness once: exit -9 at the end of a remote certify; killing it alone
    cut certify's own connection to the host). Children in their own groups are killed with
    their group."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30,
                          start_new_session=True)
    assert (done.returncode, done.stdout) == (0, "True True True\n"), done.stderr
