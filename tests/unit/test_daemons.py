"""Finding and starting the libvirt daemons (conformance.host.daemons), system calls faked."""

import os

import pytest

from conformance.host import daemons


def fake_proc(tmp_path, processes):
    """A /proc with ``self`` and ``processes``: pid -> (comm, pid namespace)."""
    for pid, (comm, ns) in {"self": ("python3", "4026531836"), **processes}.items():
        (tmp_path / pid / "ns").mkdir(parents=True)
        (tmp_path / pid / "comm").write_text(comm + "\n")
        os.symlink(f"pid:[{ns}]", tmp_path / pid / "ns" / "pid")
        os.symlink("mnt:[4026531840]", tmp_path / pid / "ns" / "mnt")
    return str(tmp_path)


def test_a_daemon_of_another_pid_namespace_is_not_this_hosts(tmp_path):
    """A namespace test host's libvirtd (another PID namespace) does not count: this host's
    own would never be started."""
    proc = fake_proc(tmp_path, {"10": ("virtlogd", "4026531836"), "20": ("libvirtd", "4026532999")})
    assert daemons.process_names(proc) == {"virtlogd"}


def test_virtqemud_provides_libvirt(monkeypatch):
    """The modular daemon serving qemu:///system counts as libvirt being up."""
    monkeypatch.setattr(daemons, "socket_accepts", lambda path: False)
    monkeypatch.setattr(daemons, "pid_alive", lambda path: False)
    assert daemons.running(daemons.LIBVIRT, {"virtqemud"})
    assert not daemons.running(daemons.LIBVIRT, {"virtlogd"})


def test_start_commands_systemd_or_by_hand():
    virtlogd, libvirtd = daemons.DAEMONS
    assert daemons.start_command(libvirtd, systemd=True) == ["systemctl", "start", "libvirtd.service"]
    assert daemons.start_command(libvirtd, systemd=False)[1:] == [daemons.REAPER, "libvirtd", "-d"]
    assert daemons.start_command(virtlogd, systemd=False) == ["virtlogd", "-d"]
    assert [d.name for d in daemons.to_start({"virtlogd": False, "libvirtd": False})] == ["virtlogd", "libvirtd"]
    assert daemons.to_start({"virtlogd": True, "libvirtd": True}) == []


def test_wait_for_libvirt_gives_up_with_named_error():
    now = [0.0]

    def pause(s):
        now[0] += s
    with pytest.raises(daemons.DaemonError, match="libvirt-sock or .*virtqemud-sock"):
        daemons.wait_for_libvirt(1.0, accepts=lambda p: False, clock=lambda: now[0], pause=pause)


def test_wait_for_libvirt_takes_either_socket():
    seen = []
    daemons.wait_for_libvirt(5, accepts=lambda p: seen.append(p) or p.endswith("virtqemud-sock"),
                             clock=lambda: 0.0, pause=lambda s: None)
    assert seen == list(daemons.LIBVIRT.sockets)
