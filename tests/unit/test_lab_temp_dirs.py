"""certify's temp dirs carry an owner file; `conformance cleanup` removes those of dead
processes (a certify killed with SIGKILL cannot remove its own)."""

import os
import subprocess
import sys

from conformance.lab import runs


def make(root, name, owner=None, age=0.0, now=1_700_000_000):
    path = root / name
    path.mkdir()
    (path / "results.jsonl").write_text("{}\n")
    if owner is not None:
        (path / "owner").write_text(owner)
    os.utime(path, (now - age, now - age))
    return path


def dead_owner() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    started = runs.process_start_time(proc.pid) or "1"
    proc.wait()
    return f"{proc.pid} {started}\n"


def test_dead_and_old_unowned_dirs_go_live_young_and_foreign_stay(tmp_path):
    me = f"{os.getpid()} {runs.process_start_time(os.getpid())}\n"
    dead = make(tmp_path, "cfm-certify-dead", dead_owner())
    live = make(tmp_path, "cfm-fleet-live", me)
    old = make(tmp_path, "cfm-certify-old", age=runs.UNOWNED_TEMP_AGE_S + 1)
    young = make(tmp_path, "cfm-certify-young", age=60)
    foreign = make(tmp_path, "pytest-of-root", dead_owner(), age=10**6)
    removed = runs.remove_dead_temp_dirs(str(tmp_path), now=1_700_000_000)
    assert sorted(removed) == sorted([str(dead), str(old)])
    assert live.is_dir() and young.is_dir() and foreign.is_dir()


def test_owned_temp_dir_names_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(runs.tempfile, "tempdir", str(tmp_path))
    path = runs.owned_temp_dir("cfm-certify-")
    assert path.parent == tmp_path and runs.owner_alive(path)
    assert runs.remove_dead_temp_dirs(str(tmp_path)) == []
