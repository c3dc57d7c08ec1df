"""./run's set-up output: whole `setup:` lines on stderr when a step works, nothing when cached.

The script runs in a temp copy with stub interpreters (python3 on PATH, .venv/bin/*), so
no package, venv or image is touched.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STUB_VENV_PYTHON = "#!/bin/sh\nexit 0\n"  # pip install, images/build.py: done, quietly
STUB_CONFORMANCE = "#!/bin/sh\necho \"listing $*\"\n"
STUB_PYTHON3 = """#!/bin/sh
# `python3 -m venv DIR` makes a venv of stubs; `-m conformance.host.setup`: prepared host, cached image
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"
    cp "$STUBS/venv-python" "$3/bin/python"
    cp "$STUBS/venv-conformance" "$3/bin/conformance"
fi
exit 0
"""


@pytest.fixture
def checkout(tmp_path):
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum (coreutils) is not installed")
    if os.geteuid() != 0:
        pytest.skip("./run calls sudo when not root; the stubs cover the root path only")
    work = tmp_path / "checkout"
    work.mkdir()
    for name in ("run", "pyproject.toml", "setup.py"):
        shutil.copy2(REPO / name, work / name)
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for name, text in [("python3", STUB_PYTHON3), ("venv-python", STUB_VENV_PYTHON),
                       ("venv-conformance", STUB_CONFORMANCE)]:
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    env = {"PATH": f"{stubs}:/usr/bin:/bin", "STUBS": str(stubs), "HOME": str(tmp_path)}
    return work, env


def run_list(work, env):
    done = subprocess.run(["bash", str(work / "run"), "list"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done


def test_fresh_then_cached(checkout):
    """First run: one line per step that works (venv, pip), all on stderr; the second run
    prints no set-up line at all; stdout is the subcommand's only."""
    work, env = checkout
    first = run_list(work, env)
    assert first.stdout == "listing list\n"
    assert first.stderr.splitlines() == [
        "setup: creating the virtualenv .venv",
        "setup: installing the harness and its dependencies into .venv (pip, about 1 min)"]
    assert (work / ".venv" / ".installed").is_file()
    second = run_list(work, env)
    assert second.stdout == "listing list\n" and second.stderr == ""


def test_changed_dependencies_reinstall_with_one_line(checkout):
    work, env = checkout
    run_list(work, env)
    with open(work / "pyproject.toml", "a") as f:
        f.write("\n# changed\n")
    assert run_list(work, env).stderr.splitlines() == [
        "setup: installing the harness and its dependencies into .venv (pip, about 1 min)"]

