"""Namespace test hosts: reachable over TLS (client certificate) and ssh only, isolated from
this host, torn down clean."""

import os
import subprocess

import pytest

pytestmark = pytest.mark.functional
libvirt = pytest.importorskip("libvirt")

TINY = """<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>
<os><type>hvm</type></os><devices/></domain>"""


def test_two_hosts_answer_over_tls_and_ssh(namespace_hosts):
    for host in namespace_hosts(2):
        with libvirt.open(host.tls_uri) as conn:
            assert conn.listAllDomains() == []
        with libvirt.open(host.ssh_uri) as conn:
            assert conn.getLibVersion() > 0


def test_guest_runs_in_namespace_only(namespace_hosts):
    host = namespace_hosts(1)[0]
    name = f"cfm-testhost-{os.getpid()}"
    with libvirt.open(host.tls_uri) as remote, libvirt.open("qemu:///system") as local:
        dom = remote.createXML(TINY.format(name=name), 0)
        try:
            assert name in [d.name() for d in remote.listAllDomains()]
            assert name not in [d.name() for d in local.listAllDomains()]
            assert not {d.name() for d in local.listAllDomains()} & {d.name() for d in remote.listAllDomains()}
        finally:
            dom.destroy()
    # libvirt has no API to remove the QEMU log: remove it over ssh, so that later tests of
    # this session that share the host find nothing left
    subprocess.run(["ssh", "-F", host.ssh_config, host.address,
                    f"rm -f /var/log/libvirt/qemu/{name}.log"], timeout=30, check=True)
    assert host.leftovers() == []


def test_libvirtd_accepts_no_unauthenticated_connection(namespace_hosts, tmp_path):
    """From outside its namespace a test host's libvirtd (a root daemon) answers only a
    client that holds the host's client certificate: plain TCP without authentication and
    TLS with no or a foreign certificate are refused."""
    host = namespace_hosts(1)[0]
    empty = tmp_path / "no-certificates"
    empty.mkdir()
    refused = [f"qemu+tcp://{host.address}/system", f"qemu+tcp://{host.address}:16509/system",
               f"qemu+tls://{host.address}/system?pkipath={empty}&no_verify=1"]
    other = namespace_hosts(2)[1]  # another host's certificate is not this host's client's
    refused.append(f"qemu+tls://{host.address}/system?pkipath={other.pki_dir}&no_verify=1")
    for uri in refused:
        with pytest.raises(libvirt.libvirtError):
            libvirt.open(uri).close()
    with libvirt.open(host.tls_uri) as conn:
        assert conn.getLibVersion() > 0


def test_conformance_state_hidden_over_ssh(namespace_hosts):
    host = namespace_hosts(1)[0]
    out = subprocess.run(["ssh", "-F", host.ssh_config, host.address, "ls -A /var/lib/conformance; echo END"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "END\n", out


def test_teardown_leaves_nothing():
    from support.testhosts import NamespaceHost, netns_list, STATE_ROOT
    host = NamespaceHost(9).start()
    state, pid1 = host.dir, host.init_pid()
    host.stop()
    host.stop()  # idempotent
    assert "cfm-h9" not in netns_list()
    assert not os.path.exists(state) and not os.path.exists(f"/proc/{pid1}")
    assert subprocess.run(["ip", "link", "show", "cfmh9"], capture_output=True).returncode != 0
