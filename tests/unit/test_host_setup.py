"""``conformance setup``: the host bootstrap, then the guest image recipe that
conformance.locations finds; a failing step stops it with exit 5. System calls are stubbed."""

import subprocess
import sys

from conformance import cli, locations
from conformance.host import bootstrap
from conformance.host import setup as host_setup


def stub(monkeypatch, bootstrap_status=0, build_status=0, root=True):
    calls = []
    monkeypatch.setattr(host_setup.os, "geteuid", lambda: 0 if root else 1000)
    monkeypatch.setattr(bootstrap, "main", lambda argv: calls.append(("bootstrap", argv)) or bootstrap_status)

    def run(argv, **kwargs):
        calls.append(("run", argv))
        return subprocess.CompletedProcess(argv, bootstrap_status if argv[0] == "sudo" else build_status)
    monkeypatch.setattr(host_setup.subprocess, "run", run)
    return calls


def test_bootstrap_then_the_image(monkeypatch):
    calls = stub(monkeypatch)
    assert cli.main(["setup"]) == 0
    assert calls == [("bootstrap", ["--quiet"]),
                     ("run", [sys.executable, str(locations.images_dir() / "build.py")])]


def test_not_root_bootstraps_through_sudo(monkeypatch):
    calls = stub(monkeypatch, root=False)
    monkeypatch.setattr(host_setup.shutil, "which", lambda cmd: f"/usr/bin/{cmd}")
    assert cli.main(["setup", "--no-image"]) == 0
    assert calls == [("run", ["sudo", sys.executable, "-m", "conformance.host.bootstrap", "--quiet"])]


def test_not_root_without_sudo_says_what_to_run(monkeypatch, capsys):
    calls = stub(monkeypatch, root=False)
    monkeypatch.setattr(host_setup.shutil, "which", lambda cmd: None)
    assert cli.main(["setup", "--no-image"]) == 5 and calls == []
    assert "not root and no sudo: run `python3 -m conformance.host.bootstrap` as root" in capsys.readouterr().err


def test_a_failed_step_stops_with_exit_5(monkeypatch):
    calls = stub(monkeypatch, bootstrap_status=1)
    assert cli.main(["setup"]) == 5 and len(calls) == 1
    stub(monkeypatch, build_status=1)
    assert cli.main(["setup"]) == 5
