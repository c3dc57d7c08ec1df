"""The reaper under libvirtd reaps orphans at once and leaves when none is left."""

import subprocess
import sys
import time
from pathlib import Path

REAPER = Path(__file__).resolve().parents[2] / "conformance" / "host" / "reaper.py"


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_orphans_are_reaped_at_once_then_the_reaper_exits():
    """A daemonizing command (its first process exits, its child lives on as an orphan)
    leaves no zombie: the orphan is reaped within a moment of its exit, and the reaper
    ends with the command's own exit status once nothing is left to reap."""
    reaper = subprocess.Popen([sys.executable, str(REAPER), "sh", "-c", "sleep 1.5 & echo $!; exit 3"],
                              stdout=subprocess.PIPE, text=True)
    orphan = int(reaper.stdout.readline())
    time.sleep(0.5)
    ppid = Path(f"/proc/{orphan}/stat").read_text().rsplit(")", 1)[1].split()[1]
    assert int(ppid) == reaper.pid  # the orphan came to the reaper, not to pid 1
    assert reaper.wait(timeout=10) == 3
    assert _state(orphan) is None  # reaped (no zombie left behind)


def test_no_command_is_a_usage_error():
    done = subprocess.run([sys.executable, str(REAPER)], capture_output=True, text=True, timeout=10)
    assert done.returncode == 2 and "usage" in done.stderr
