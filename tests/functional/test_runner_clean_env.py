"""`./run tests` with no environment set: the Nova tests get a working Nova (or skip naming
why), never a crash. This is what a new user runs; CI exported a variable that hid it."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.functional]


def test_nova_tests_pass_through_run_with_a_clean_environment():
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    done = subprocess.run(
        ["./run", "tests", "tests/nova/test_nova_driver.py", "-q", "-p", "no:cacheprovider",
         "-k", "test_no_agent_by_default or test_agent_channel_named_after_instance"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    tail = (done.stdout + done.stderr)[-3000:]
    assert done.returncode == 0, tail
    assert "2 passed" in done.stdout, tail
