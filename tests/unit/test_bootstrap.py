"""Decision logic of the host bootstrap, with every system call mocked."""
import subprocess
import sys

import pytest

from conformance.host import bootstrap as bs

DPKG_OUT = (
    "qemu-system-x86\tinstall ok installed\n"
    "cpio\tinstall ok installed\n"
    "gcc\tdeinstall ok config-files\n"
    "libc6:amd64\tinstall ok installed\n"
)


def test_missing_packages_only_counts_fully_installed():
    """A package is present only with status 'install ok installed' (not config-files, not absent)."""
    wanted = ["qemu-system-x86", "cpio", "gcc", "libc6", "busybox-static"]
    assert bs.missing_packages(wanted, DPKG_OUT) == ["gcc", "busybox-static"]


def test_missing_packages_none_missing():
    """Nothing is reported missing when all wanted packages are installed."""
    assert bs.missing_packages(["cpio", "libc6"], DPKG_OUT) == []


def test_daemons_to_start_keeps_order_and_skips_running():
    """virtlogd is started before libvirtd, and running daemons are left alone."""
    assert bs.daemons_to_start({"virtlogd": False, "libvirtd": False}) == ["virtlogd", "libvirtd"]
    assert bs.daemons_to_start({"virtlogd": True, "libvirtd": False}) == ["libvirtd"]
    assert bs.daemons_to_start({"virtlogd": True, "libvirtd": True}) == []


def test_dirs_to_create():
    """Only directories that do not exist are created."""
    assert bs.dirs_to_create(["/a", "/b"], lambda p: p == "/a") == ["/b"]


def test_wait_for_socket_gives_up_with_named_error():
    """A socket that never accepts raises BootstrapError after the deadline, naming the socket."""
    now = [0.0]

    def pause(s):
        now[0] += s
    with pytest.raises(bs.BootstrapError, match="libvirt-sock"):
        bs.wait_for_socket("/run/libvirt/libvirt-sock", deadline_s=1.0, accepts=lambda p: False,
                           clock=lambda: now[0], pause=pause)


def test_wait_for_socket_returns_once_accepting():
    """wait_for_socket returns as soon as the socket accepts."""
    calls = []
    bs.wait_for_socket("/x", deadline_s=5, accepts=lambda p: calls.append(p) or len(calls) >= 3,
                       clock=lambda: 0.0, pause=lambda s: None)
    assert len(calls) == 3


def _mock_host(monkeypatch, dpkg_out, running, dirs_exist):
    runs = []

    def fake_run(cmd, **kw):
        runs.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(bs, "dpkg_status", lambda pkgs: dpkg_out)
    monkeypatch.setattr(bs, "daemon_running", lambda pid, sock: running[sock])
    monkeypatch.setattr(bs, "wait_for_socket", lambda path: None)
    monkeypatch.setattr(bs.os.path, "isdir", lambda p: dirs_exist)
    monkeypatch.setattr(bs.os, "makedirs", lambda *a, **k: runs.append(["mkdir", a[0]]))
    monkeypatch.setattr(bs.os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, **kw: runs.append(cmd))
    return runs


def _prepared_host(monkeypatch):
    all_installed = "".join(f"{p}\tinstall ok installed\n" for p in bs.PACKAGES)
    return _mock_host(monkeypatch, all_installed, {s: True for _, _, s in bs.DAEMONS}, True)


def test_bootstrap_second_run_does_nothing(monkeypatch):
    """On a prepared host bootstrap runs no command and prints nothing."""
    runs = _prepared_host(monkeypatch)
    printed = []
    assert bs.bootstrap(out=printed.append) == []
    assert printed == [] and runs == []


@pytest.mark.parametrize("argv, stderr", [([], "setup: nothing to do\n"), (["--quiet"], "")])
def test_bootstrap_main_prepared_host(monkeypatch, capsys, argv, stderr):
    """`--quiet` (used by ./run) prints nothing on a prepared host; stdout stays empty either way."""
    _prepared_host(monkeypatch)
    monkeypatch.setattr(bs.os, "geteuid", lambda: 0)
    assert bs.main(argv) == 0
    assert capsys.readouterr() == (("", stderr))


def test_bootstrap_installs_missing_and_starts_daemons(monkeypatch):
    """Missing packages trigger apt-get update + install of exactly those; stopped daemons are started."""
    partial = "".join(f"{p}\tinstall ok installed\n" for p in bs.PACKAGES if p != "cpio")
    running = {"/run/libvirt/virtlogd-sock": True, bs.LIBVIRT_SOCKET: False}
    runs = _mock_host(monkeypatch, partial, running, False)
    printed = []
    bs.bootstrap(out=printed.append)
    assert runs[0] == ["apt-get", "update"]
    assert runs[1] == ["apt-get", "install", "-y", "--no-install-recommends", "cpio"]
    assert [sys.executable, bs.REAPER, "libvirtd", "-d"] in runs  # under the reaper
    assert ["virtlogd", "-d"] not in runs
    assert printed[:3] == ["installing 1 Debian packages with apt-get (first run only, about 2 min): cpio",
                           "installed: cpio", "started libvirtd"]
    assert [r[1] for r in runs if r[0] == "mkdir"] == bs.RUNTIME_DIRS
