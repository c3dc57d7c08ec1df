"""Namespace test hosts: reachable over tcp and ssh, isolated from this host, torn down clean."""

import os
import subprocess

import pytest

pytestmark = pytest.mark.functional
libvirt = pytest.importorskip("libvirt")

TINY = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
<os><type>hvm</type></os><devices/></domain>"""


def test_two_hosts_answer_over_tcp_and_ssh(namespace_hosts):
    for host in namespace_hosts(2):
        with libvirt.open(host.tcp_uri) as conn:
            assert conn.listAllDomains() == []
        with libvirt.open(host.ssh_uri) as conn:
            assert conn.getLibVersion() > 0


def test_guest_runs_in_namespace_only(namespace_hosts):
    host = namespace_hosts(1)[0]
    name = f"cfm-testhost-{os.getpid()}"
    with libvirt.open(host.tcp_uri) as remote, libvirt.open("qemu:///system") as local:
        dom = remote.createXML(TINY.format(name=name), 0)
        try:
            assert name in [d.name() for d in remote.listAllDomains()]
            assert name not in [d.name() for d in local.listAllDomains()]
            assert not {d.name() for d in local.listAllDomains()} & {d.name() for d in remote.listAllDomains()}
        finally:
            dom.destroy()


def test_conformance_state_hidden_over_ssh(namespace_hosts):
    host = namespace_hosts(1)[0]
    out = subprocess.run(["ssh", "-F", host.ssh_config, host.address, "ls -A /var/lib/conformance; echo END"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "END\n", out


def test_teardown_leaves_nothing():
    from conformance.testhosts import NamespaceHost, netns_list, STATE_ROOT
    host = NamespaceHost(9).start()
    state, pid1 = host.dir, host.init_pid()
    host.stop()
    host.stop()  # idempotent
    assert "cfm-h9" not in netns_list()
    assert not os.path.exists(state) and not os.path.exists(f"/proc/{pid1}")
    assert subprocess.run(["ip", "link", "show", "cfmh9"], capture_output=True).returncode != 0
