"""Shell access to the libvirt host: transport by URI, bounded commands, no-shell honesty."""

import re
import time

import libvirt
import pytest

from conformance.errors import HostCapabilityMissing, HostUnreachable
from conformance.host import capabilities
from conformance.lab import connection
from conformance.lab.host import (HostAccessError, LocalHost, NoShellHost, SshHost, host_access,
                                  is_local_uri)

SSH_URI = "qemu+ssh://admin@node1:2222/system?keyfile=/k/id&no_verify=1&no_tty=1"


@pytest.mark.parametrize("uri, local", [
    ("qemu:///system", True), ("qemu:///session", True), ("qemu+unix:///system", True),
    ("qemu+ssh://root@node1/system", False), ("qemu+tcp://10.251.1.2/system", False),
    ("qemu+tls://node1/system", False)])
def test_local_uris_have_no_host_part(uri, local):
    assert is_local_uri(uri) is local


def test_transport_follows_the_uri():
    """Local files for a local URI, ssh for qemu+ssh, and no shell at all for tcp/tls."""
    assert isinstance(host_access("qemu:///system"), LocalHost)
    assert isinstance(host_access("qemu+tcp://10.251.1.2/system"), NoShellHost)
    assert isinstance(host_access("qemu+tls://node1/system"), NoShellHost)
    ssh = host_access(SSH_URI)
    try:
        assert isinstance(ssh, SshHost)
        assert (ssh.user, ssh.hostname, ssh.port, ssh.keyfile, ssh.no_verify) == \
            ("admin", "node1", 2222, "/k/id", True)
        args = ssh.backend.ssh_extra_args
        assert "StrictHostKeyChecking=no" in args and "BatchMode=yes" in args
    finally:
        ssh.close()


def test_no_shell_host_names_the_uri_and_what_it_needs():
    """Without ssh, host-side files are a missing capability naming the URI (a skip), never
    the harness's own files; standard entropy devices are trusted by name."""
    host = NoShellHost("qemu+tcp://10.251.1.2/system")
    with pytest.raises(HostCapabilityMissing, match=r"qemu\+tcp://10.251.1.2/system.*qemu\+ssh"):
        host.read_bytes("/proc/1/cmdline")
    assert host.char_device("/dev/urandom") == (1, 9)
    assert host.char_device("/etc/shadow") is None


def test_local_commands_are_bounded():
    """A command that does not finish is killed (its whole group) and named."""
    host = LocalHost()
    assert host.run(["sh", "-c", "echo 'a b'; exit 3"]).rc == 3
    assert host.run(["echo", "a b;", "$(x)"]).stdout == "a b; $(x)\n"  # quoted, no shell
    started = time.monotonic()
    with pytest.raises(HostAccessError, match="did not finish in 0.5 s"):
        host.run(["sh", "-c", "sleep 30 & sleep 30"], timeout=0.5)
    assert time.monotonic() - started < 5


def test_local_char_device():
    host = LocalHost()
    assert host.char_device("/dev/null") == (1, 3)
    assert host.char_device("/etc/hostname") is None
    assert host.char_device("/nonexistent") is None


def test_remote_open_is_bounded(monkeypatch):
    """A remote host that never answers the connection attempt is HostUnreachable after
    the deadline, not a hang."""
    monkeypatch.setattr(connection.libvirt, "open", lambda uri: time.sleep(5))
    started = time.monotonic()
    with pytest.raises(HostUnreachable, match=r"qemu\+tcp://h/system unreachable: no answer"):
        connection._open_bounded("qemu+tcp://h/system", 0.3)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("uri, opened", [
    ("qemu+ssh://root@h/system", "qemu+ssh://root@h/system?no_tty=1"),
    ("qemu+ssh://h:2222/system?keyfile=/k", "qemu+ssh://h:2222/system?keyfile=/k&no_tty=1"),
    ("qemu+ssh://h/system?no_tty=0", "qemu+ssh://h/system?no_tty=0"),
    ("qemu+tcp://h/system", "qemu+tcp://h/system"),
    ("qemu+libssh2://h/system", "qemu+libssh2://h/system"),
])
def test_ssh_never_waits_for_a_terminal(monkeypatch, uri, opened):
    """libvirt's ssh transport gets no_tty=1 unless the URI sets it; the error names the
    user's URI."""
    seen = []

    def refuse(uri):
        seen.append(uri)
        raise libvirt.libvirtError("Host key verification failed")
    monkeypatch.setattr(connection.libvirt, "open", refuse)
    with pytest.raises(HostUnreachable, match=re.escape(uri)):
        connection.open_connection(uri)
    assert seen == [opened]


def test_remote_refusal_is_unreachable_local_is_missing(monkeypatch):
    """A remote daemon that refuses is HostUnreachable (an error); a local one that is not
    running is HostCapabilityMissing (this machine is not set up: a skip)."""
    def refuse(uri):
        raise libvirt.libvirtError("Connection refused")
    monkeypatch.setattr(connection.libvirt, "open", refuse)
    with pytest.raises(HostUnreachable, match="Connection refused"):
        connection.open_connection("qemu+tcp://h/system")
    with pytest.raises(HostCapabilityMissing, match="bootstrap"):
        connection.open_connection("qemu:///system")


REMOTE_FACTS = """@@ daemon virtqemud 812
@@ limits
Limit                     Soft Limit           Hard Limit           Units
Max locked memory         8388608              8388608              bytes
@@ status
Name:	virtqemud
CapEff:	000001ffffffffff
@@ kvm
rw
@@ events
breakpoint
cpu
software
@@ hugepages
hugepages-2048kB 4
"""


class FakeRemote:
    local = False

    def __init__(self, out=REMOTE_FACTS, error=None):
        self.out, self.error = out, error

    def run(self, argv, timeout=20):
        if self.error:
            raise self.error

        class Done:
            stdout, rc = self.out, 0
        return Done()


def test_remote_capabilities_come_from_the_remote_daemon():
    """Limits and capabilities of the host's virtqemud, its /dev/kvm, PMU and huge pages."""
    caps = capabilities.probe(None, FakeRemote())
    assert caps.libvirtd.name == "virtqemud" and caps.libvirtd.pid == 812
    assert caps.libvirtd.memlock_hard == 8 << 20 and caps.libvirtd.cap_sys_resource
    assert (caps.kvm_device, caps.host_pmu, caps.hugepages) == ("rw", True, {"2048": 4})
    assert capabilities.locked_memory_blocker(caps, 256 << 20) is None  # CAP_SYS_RESOURCE


def test_remote_capabilities_unknown_without_shell():
    """No shell: the daemon's limits are unknown and a locked guest's boot is blocked with
    that reason (not judged by the harness's own limits)."""
    caps = capabilities.probe(None, FakeRemote(error=HostCapabilityMissing("no shell on X")))
    assert caps.libvirtd is None and "no shell on X" in caps.unknown
    reason = capabilities.locked_memory_blocker(caps, 256 << 20)
    assert reason.startswith("RLIMIT_MEMLOCK of the libvirt daemon cannot be measured: no shell on X")


def test_ssh_control_socket_path_fits_a_unix_socket(monkeypatch, tmp_path):
    """A deep TMPDIR (certify's temp dir inside a test's) must not break ssh: the control
    socket's directory falls back to /tmp when the path would be too long for a socket."""
    deep = tmp_path / ("d" * 80)
    deep.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(deep))
    host = SshHost(SSH_URI)
    try:
        assert len(host.control_path) < 80 and host.control_path.startswith("/tmp/cfm-ssh-")
    finally:
        host.close()
    assert not list(deep.iterdir())
