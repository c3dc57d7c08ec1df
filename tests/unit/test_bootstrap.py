"""Decision logic of the host bootstrap, with every system call mocked."""
import subprocess
import sys

import pytest

from conformance.host import bootstrap as bs
from conformance.host import daemons, distro

DEBIAN12 = {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"}


def everything_installed(source="linux-source-6.1"):
    names = {alt.split("|")[0] for alt in distro.PACKAGES + distro.MINIMAL_KERNEL}
    return (names - {distro.KERNEL_SOURCE}) | {source}


def test_dirs_to_create():
    """Only directories that do not exist are created."""
    assert bs.dirs_to_create(["/a", "/b"], lambda p: p == "/a") == ["/b"]


def test_invoking_user_is_the_sudo_caller_never_root():
    assert bs.invoking_user({"SUDO_UID": "1000", "SUDO_GID": "100"}) == (1000, 100)
    assert bs.invoking_user({"SUDO_UID": "0", "SUDO_GID": "0"}) is None
    assert bs.invoking_user({}) is None


def _mock_host(monkeypatch, installed, up, dirs_exist, offered=None, release=DEBIAN12, systemd=False):
    runs = []

    def fake_run(cmd, **kw):
        runs.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(distro, "os_release", lambda: release)
    monkeypatch.setattr(distro, "installed_packages", lambda: set(installed))
    monkeypatch.setattr(distro, "offered_packages", lambda: set(offered or ()))
    monkeypatch.setattr(bs.shutil, "which", lambda c: f"/usr/bin/{c}")
    monkeypatch.setattr(daemons, "under_systemd", lambda: systemd)
    monkeypatch.setattr(daemons, "process_names", lambda: set())
    monkeypatch.setattr(daemons, "running", lambda d, names=None: up[d.name])
    monkeypatch.setattr(daemons, "wait_for_libvirt", lambda: None)
    monkeypatch.setattr(bs.os.path, "isdir", lambda p: dirs_exist)
    monkeypatch.setattr(bs.os, "makedirs", lambda *a, **k: runs.append(["mkdir", a[0]]))
    monkeypatch.setattr(bs.os, "chmod", lambda *a, **k: None)
    monkeypatch.setattr(bs.os, "chown", lambda *a: runs.append(["chown", *a]))
    monkeypatch.setattr(subprocess, "run", fake_run)
    monkeypatch.setattr(subprocess, "Popen", lambda cmd, **kw: runs.append(cmd))
    return runs


def _prepared_host(monkeypatch):
    return _mock_host(monkeypatch, everything_installed(), {"virtlogd": True, "libvirtd": True}, True)


def test_bootstrap_second_run_does_nothing(monkeypatch):
    """On a prepared host bootstrap runs no command and prints nothing."""
    runs = _prepared_host(monkeypatch)
    printed = []
    assert bs.bootstrap(out=printed.append, environ={}) == []
    assert printed == [] and runs == []


@pytest.mark.parametrize("argv, stderr", [([], "setup: nothing to do\n"), (["--quiet"], "")])
def test_bootstrap_main_prepared_host(monkeypatch, capsys, argv, stderr):
    """`--quiet` (used by ./run) prints nothing on a prepared host; stdout stays empty either way."""
    _prepared_host(monkeypatch)
    monkeypatch.setattr(bs.os, "geteuid", lambda: 0)
    monkeypatch.delenv("SUDO_UID", raising=False)
    assert bs.main(argv) == 0
    assert capsys.readouterr() == (("", stderr))


def test_bootstrap_installs_missing_and_starts_daemons(monkeypatch):
    """Missing packages trigger apt-get update + install of exactly those; stopped daemons are started."""
    installed = everything_installed() - {"cpio"}
    runs = _mock_host(monkeypatch, installed, {"virtlogd": True, "libvirtd": False}, False,
                      offered={"cpio"})
    printed = []
    bs.bootstrap(out=printed.append, environ={})
    assert runs[0] == ["apt-get", "update"]
    assert runs[1] == ["apt-get", "install", "-y", "--no-install-recommends", "cpio"]
    assert [sys.executable, daemons.REAPER, "libvirtd", "-d"] in runs  # under the reaper
    assert ["virtlogd", "-d"] not in runs
    assert printed[:3] == ["installing 1 packages of Debian GNU/Linux 12 (bookworm) with apt-get "
                           "(first run only, about 2 min): cpio", "installed: cpio", "started libvirtd"]
    assert [r[1] for r in runs if r[0] == "mkdir"] == bs.RUNTIME_DIRS


def test_debian13_names_come_from_what_apt_offers(monkeypatch):
    """A host with nothing installed gets the kernel source apt offers (6.12 on Debian 13),
    never a fixed name."""
    offered = everything_installed("linux-source-6.12") | {"linux-source"}
    runs = _mock_host(monkeypatch, set(), {"virtlogd": True, "libvirtd": True}, True, offered=offered,
                      release={"ID": "debian", "VERSION_ID": "13", "PRETTY_NAME": "Debian GNU/Linux 13 (trixie)"})
    bs.bootstrap(out=lambda line: None, environ={})
    [install] = [r for r in runs if r[:2] == ["apt-get", "install"]]
    assert "linux-source-6.12" in install and "linux-source-6.1" not in install
    assert "linux-source" not in install and "linux-perf" in install and "chromium" in install


def test_no_kernel_source_offered_says_stock_kernel(monkeypatch):
    """Without a kernel source package the set-up says the image uses the stock kernel, and
    does not install the minimal kernel's build tools."""
    offered = everything_installed() - {"linux-source-6.1", "bc", "flex"}
    runs = _mock_host(monkeypatch, set(), {"virtlogd": True, "libvirtd": True}, True, offered=offered)
    printed = []
    bs.bootstrap(out=printed.append, environ={})
    assert any("stock kernel with modules in the initramfs" in line for line in printed)
    [install] = [r for r in runs if r[:2] == ["apt-get", "install"]]
    assert "bc" not in install and "flex" not in install


def test_running_libvirt_under_systemd_is_reused(monkeypatch):
    """A libvirt already up is never started again; a missing one under systemd is started by
    systemctl, not by hand."""
    runs = _mock_host(monkeypatch, everything_installed(), {"virtlogd": False, "libvirtd": True}, True,
                      systemd=True)
    printed = []
    bs.bootstrap(out=printed.append, environ={})
    assert runs == [["systemctl", "start", "virtlogd.service"]]
    assert printed == ["started virtlogd.service (systemd)"]


def test_runtime_dirs_belong_to_the_sudo_caller(monkeypatch):
    runs = _mock_host(monkeypatch, everything_installed(), {"virtlogd": True, "libvirtd": True}, False)
    bs.bootstrap(out=lambda line: None, environ={"SUDO_UID": "1000", "SUDO_GID": "1000"})
    assert [r for r in runs if r[0] == "chown"] == [["chown", p, 1000, 1000] for p in bs.RUNTIME_DIRS]


def test_unknown_distribution_gets_one_line_naming_what_to_install(monkeypatch, capsys):
    _mock_host(monkeypatch, set(), {"virtlogd": True, "libvirtd": True}, True,
               release={"ID": "arch", "PRETTY_NAME": "Arch Linux"})
    monkeypatch.setattr(bs.shutil, "which", lambda c: None if c in ("apt-get", "qemu-ga") else c)
    monkeypatch.setattr(bs.os, "geteuid", lambda: 0)
    assert bs.main(["--quiet"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("setup: Arch Linux has no apt: install by hand QEMU")
    assert "(missing now: qemu-ga)" in line


def test_unknown_distribution_with_everything_by_hand_goes_on(monkeypatch):
    runs = _mock_host(monkeypatch, set(), {"virtlogd": True, "libvirtd": True}, True,
                      release={"ID": "fedora", "PRETTY_NAME": "Fedora Linux 41"})
    monkeypatch.setattr(bs.shutil, "which", lambda c: None if c == "apt-get" else c)
    assert bs.bootstrap(out=lambda line: None, environ={}) == [] and runs == []
