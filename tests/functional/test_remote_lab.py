"""The guest lab on a remote libvirt host (a namespace test host): no shared filesystem.

The test host sees its own /var/lib/conformance, /run and /var/log/libvirt (tmpfs) and its
own PID namespace, so a harness that read the guest's files or QEMU's /proc locally would
fail here: boot files and the console must travel as storage volumes, and QEMU's facts over
ssh.
"""

import os
import subprocess
import sys
import uuid

import pytest

from conformance.errors import HostCapabilityMissing
from conformance.live import qemu
from fixtures.guests import reference_xml

pytestmark = [pytest.mark.functional, pytest.mark.slow]
libvirt = pytest.importorskip("libvirt")


def _boot(lab, image, extra_specs):
    host_image = lab.host_image(image)
    name = f"instance-{uuid.uuid4().hex[:8]}"
    placement = lab.placement(host_image.boot, slug="remote", instance_name=name,
                              loader=host_image.loader)
    guest = lab.start(reference_xml(host_image, "qemu", name, extra_specs), placement)
    guest.wait_for_boot(120)
    return host_image, guest


def test_guest_on_remote_host_over_ssh(namespace_hosts, local_image):
    """Kernel and initramfs are uploaded volumes on the host (not local paths), the console
    is read back from the host, QEMU's command line is the host's (its PID namespace, not
    ours), and closing the lab leaves no domain, volume, pool or file there."""
    from conformance.lab.lab import Lab
    host = namespace_hosts(1)[0]
    with Lab(host.ssh_uri) as lab:
        host_image, guest = _boot(lab, local_image, {"hw:watchdog_action": "reset"})
        assert host_image.kernel.startswith("/var/lib/conformance/pool/cfm-")
        assert not os.path.exists(host_image.kernel)  # only the remote host has it
        guest.wait_for_agent(60)
        argv = qemu.guest_cmdline(guest)
        assert f"guest={guest.name}" in " ".join(argv)
        assert qemu.watchdog_action(argv) == "reset"
        try:  # the pid is the host's: here it is another process, or none
            local = open(f"/proc/{guest.pid}/cmdline", "rb").read()
        except OSError:
            local = b""
        assert guest.name.encode() not in local
        assert guest.boot_ids() and guest.shell("cat /proc/sys/kernel/random/boot_id").text.strip() \
            == guest.boot_ids()[-1]
        assert "pool cfm" in host.leftovers()
        _assert_failure_artifacts(guest, shell=True)
    assert host.leftovers() == []


def _assert_failure_artifacts(guest, shell: bool) -> None:
    """What a failed check of this remote guest would keep: its console (a pool volume),
    QEMU's log over ssh (or why not, without a shell), its XML, events, QMP and dmesg."""
    from conformance.report.artifacts import guest_pieces
    pieces = {p.name: p for p in guest_pieces(guest, agent=shell)}
    assert pieces["console.log"].data, pieces["console.log"]
    assert b"<domain" in pieces["booted-create.xml"].data and b"<domain" in pieces["driver-create.xml"].data
    assert pieces["events.json"].data.startswith(b"[")
    if shell:
        assert guest.name.encode() in pieces["qemu.log"].data, pieces["qemu.log"]
        assert pieces["dmesg.txt"].data, pieces["dmesg.txt"]
    else:
        assert pieces["qemu.log"].data is None and "qemu+ssh" in pieces["qemu.log"].unavailable, pieces["qemu.log"]


def test_workers_adopt_the_image_certify_uploaded_once(namespace_hosts, local_image):
    """A lab given the volumes another process of the run uploaded (what certify hands its
    pytest child) boots from them, uploads no image of its own and leaves them in place;
    the uploader's close removes them, and the pool."""
    from conformance.lab import storage
    from conformance.lab.lab import Lab
    host = namespace_hosts(1)[0]
    uri = host.ssh_uri
    with Lab(uri) as parent:
        uploaded = parent.host_image(local_image)
        env = storage.shared_env(uri, parent.files.uploaded)
        with Lab(uri, shared_volumes=storage.shared_volumes(uri, env)) as worker:
            host_image, guest = _boot(worker, local_image, {})
            assert (host_image.kernel, host_image.initrd) == (uploaded.kernel, uploaded.initrd)
            volumes = storage.run_volumes(storage.pool(worker.conn, create=False))
            assert not [v for v in volumes[worker.run.id] if local_image.digest in v]
        assert guest.destroyed
        assert f"volume {os.path.basename(uploaded.kernel)}" in host.leftovers()
    assert host.leftovers() == []


def test_host_facts_without_shell_are_a_named_skip(namespace_hosts, local_image):
    """Over qemu+tls (no shell) the guest still boots (volumes, console by download), but QEMU's /proc
    cannot be read: HostCapabilityMissing names the URI, so such checks skip, never pass.
    Without a shell libvirt's QEMU log of the guest stays (libvirt has no API to remove it);
    everything else goes."""
    from conformance.lab.lab import Lab
    host = namespace_hosts(1)[0]
    with Lab(host.tls_uri) as lab:
        _, guest = _boot(lab, local_image, {})
        with pytest.raises(HostCapabilityMissing, match=r"qemu\+tls://.*qemu\+ssh"):
            qemu.guest_cmdline(guest)
        assert lab.capabilities().unknown
        _assert_failure_artifacts(guest, shell=False)
    log = f"/var/log/libvirt/qemu/{guest.name}.log"
    assert host.leftovers() == [f"file {log}"]
    subprocess.run(["ssh", "-F", host.ssh_config, host.address, f"rm -f {log}"], timeout=30, check=True)


def test_cleanup_removes_a_dead_runs_volumes_on_the_host(namespace_hosts, local_image):
    """`conformance cleanup --libvirt-uri URI` removes volumes of a run whose process is dead
    (by its owner marker volume), then the empty pool."""
    from conformance.lab import storage
    from conformance.lab.connection import open_connection
    from conformance.lab.runs import Owner, harness_machine, process_start_time
    host = namespace_hosts(1)[0]
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = process_start_time(child.pid)
    child.wait()
    conn = open_connection(host.tls_uri)
    try:
        files = storage.HostFiles(lambda: conn, "deadbeef", Owner("deadbeef", child.pid, started or "1",
                                                                  *harness_machine()))
        files.upload(local_image.initrd, "x-initrd")
    finally:
        conn.close()
    assert "volume cfm-deadbeef-x-initrd" in host.leftovers()
    out = subprocess.run([sys.executable, "-m", "conformance.cli", "cleanup", "--libvirt-uri",
                          host.ssh_uri], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "removed volume cfm-deadbeef-x-initrd" in out.stdout
    assert "removed volume cfm-deadbeef.owner" in out.stdout
    assert host.leftovers() == []
