"""The Debian 13 test host: its own libvirtd 11 and QEMU 10, reached over qemu+ssh, and
nothing of it left after it stops."""

from __future__ import annotations

import fcntl

import pytest

from debian13.conftest import LOCK, TIMEOUT, leftovers

pytestmark = [pytest.mark.functional, pytest.mark.debian13, pytest.mark.exclusive, TIMEOUT]
libvirt = pytest.importorskip("libvirt")


def test_libvirt_11_and_qemu_10_answer_over_ssh(debian13_host):
    conn = libvirt.open(debian13_host.ssh_uri)
    try:
        assert conn.getLibVersion() // 1_000_000 == 11  # the daemon's, not this machine's 9.0
        assert conn.getVersion() // 1_000_000 == 10
        assert "<domain>qemu</domain>" in conn.getDomainCapabilities(None, "x86_64", None, "qemu")
    finally:
        conn.close()
    shell = debian13_host.testinfra_host()
    assert 'VERSION_ID="13"' in shell.file("/etc/os-release").content_string
    assert shell.check_output("qemu-system-x86_64 --version").startswith("QEMU emulator version 10.")


def test_a_stopped_host_leaves_nothing_and_the_tree_is_untouched(debian13_tree):
    """Start and stop a second host: no netns, veth, process, mount or file remains, and
    what its daemons wrote went to its overlay, not into the cached tree."""
    from support.testhosts import free_index
    from support.debian13_host import Debian13Host
    before = sorted(p.name for p in (debian13_tree / "var/log/libvirt").iterdir())
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        host = Debian13Host(free_index(), debian13_tree).start()
    where = (host.netns, host.veth, host.dir)
    assert leftovers(*where)  # the check sees a running host
    host.stop()
    assert leftovers(*where) == []
    assert sorted(p.name for p in (debian13_tree / "var/log/libvirt").iterdir()) == before
