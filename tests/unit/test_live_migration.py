"""Two-host operations (conformance.live.migration, conformance.live.peers) without libvirt
daemons: which host a migration goes to, what a one-host run says, the harness-owned
migration parameters, and hostile destination answers refused before libvirt sees them."""

import json
import os
from dataclasses import dataclass
from types import SimpleNamespace

import libvirt
import pytest
from lxml import etree

from conformance.errors import DomainRefused, HostUnreachable, SandboxViolation
from conformance.lab import sandbox
from conformance.lab.history import GuestHistory
from conformance.lab.runs import Owner
from conformance.lab.sandbox import Placement
from conformance.live import migration, operations, peers

UUID = "99999999-2222-3333-4444-555555555555"
SRC_KERNEL, SRC_INITRD = "/var/lib/conformance/images/x/vmlinuz", "/var/lib/conformance/images/x/initrd.img"
DEST_KERNEL, DEST_INITRD = "/var/lib/conformance/pool/cfm-r2-x-vmlinuz", "/var/lib/conformance/pool/cfm-r2-x-initrd"
PEER_URI = "qemu+ssh://root@10.251.7.2/system?keyfile=/k"
SOURCE = Placement(name="cfm-r1-1-lc", uuid=UUID, instance_uuid=UUID, instance_name="instance-1",
                   console_path="/var/lib/conformance/runs/r1/c.log", owner=Owner("r1", 1, "1"),
                   virt_type="qemu", kernel=SRC_KERNEL, initrd=SRC_INITRD)


def answer(devices: str = "", name: str = "instance-1", uuid: str = UUID,
           kernel: str = SRC_KERNEL) -> str:
    """A driver's destination XML: the instance's, with the source's boot files."""
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid>"
            "<memory unit='MiB'>256</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<kernel>{kernel}</kernel><initrd>{SRC_INITRD}</initrd></os>"
            f"<devices><serial type='pty'/>{devices}</devices></domain>")


@pytest.fixture
def run_hosts(monkeypatch):
    def set_(*uris):
        monkeypatch.setenv(peers.RUN_HOSTS_ENV, json.dumps(list(uris)))
    return set_


def test_a_one_host_run_says_two_host_operations_need_two(monkeypatch):
    monkeypatch.delenv(peers.RUN_HOSTS_ENV, raising=False)
    for operation in ("live_migrate", "cold_migrate", "evacuate"):
        assert operations.live_blocker(operation) == f"{operation} needs two hosts; this run had one"
    assert operations.live_blocker("reboot") is None


def test_with_two_hosts_they_are_live_and_each_goes_to_the_next(run_hosts):
    run_hosts("qemu:///system", PEER_URI, "qemu+tls://10.0.0.3/system")
    assert operations.live_blocker("live_migrate") is None
    assert peers.peer_uri("qemu:///system") == PEER_URI
    assert peers.peer_uri(PEER_URI) == "qemu+tls://10.0.0.3/system"
    assert peers.peer_uri("qemu+tls://10.0.0.3/system") == "qemu:///system"  # wraps
    assert peers.peer_uri("qemu:///other") == "qemu:///system"  # not in the run: the first
    assert peers.peer_uri("qemu:///system", ["qemu:///system"]) is None


def test_the_headline_counts_the_cases_a_one_host_run_could_not_run():
    from conformance.report.headline import one_host_only
    na = {"status": "n/a", "reason": peers.needs_hosts("live_migrate", 2)}
    results = [{"levels": {"host": na}}, {"levels": {"host": {"status": "pass"}}}]
    assert one_host_only(results) == {"live_migrate": 1}


def test_the_migration_address_is_the_destinations_own():
    assert peers.migration_address("qemu:///system", PEER_URI) == "10.251.7.2"
    # a local destination: this machine's address on its route to the source host
    assert peers.migration_address("qemu+ssh://root@127.0.0.1/system", "qemu:///system") == "127.0.0.1"
    assert peers.url_host("fd00::2") == "[fd00::2]"
    with pytest.raises(Exception, match="both this machine"):
        peers.migration_address("qemu:///system", "qemu:///session")


def test_the_source_boot_files_are_the_destinations_and_nothing_else_is_rewritten():
    there = SOURCE.__class__(**{**SOURCE.__dict__, "kernel": DEST_KERNEL, "initrd": DEST_INITRD})
    moved = etree.fromstring(migration.boot_files_moved(answer(), SOURCE, there).encode())
    assert (moved.findtext("os/kernel"), moved.findtext("os/initrd")) == (DEST_KERNEL, DEST_INITRD)
    other = etree.fromstring(migration.boot_files_moved(answer(kernel="/boot/evil"), SOURCE,
                                                        there).encode())
    assert other.findtext("os/kernel") == "/boot/evil"  # left for the sandbox to refuse


@dataclass
class FakePeer:
    """A destination lab: sandboxes like a lab; any libvirt call fails the test."""
    tmp: str
    uri: str = PEER_URI
    remote: bool = False

    def __post_init__(self):
        self.run = SimpleNamespace(owner=Owner("r2", 2, "2"),
                                   path=lambda name: os.path.join(self.tmp, name))
        self.touched, self.conn = [], FakeConnection()

    def sandboxed(self, xml, placement):
        return sandbox.prepare(xml, placement)

    def define(self, xml):
        self.touched.append("define")
        raise AssertionError("libvirt saw the destination XML")

    def connected(self):
        self.touched.append("connect")
        return self.conn


class FakeConnection:
    is_alive = 1

    def isAlive(self):
        return self.is_alive

    def lookupByName(self, name):
        raise libvirt.libvirtError(f"no domain {name}")


class FakeDomain:
    def __init__(self):
        self.migrations, self.fails = [], None

    def destroy(self):
        pass

    def migrate3(self, conn, params, flags):
        self.migrations.append((conn, params, flags))
        if self.fails:
            raise self.fails
        return "the destination's domain"


class FakeGuest:
    def __init__(self):
        self.name, self.uuid, self.history = SOURCE.name, UUID, GuestHistory()
        self.domain, self.calls = FakeDomain(), []
        self.link = SimpleNamespace(call=self._call, domain=self.domain)

    def _call(self, what, call):
        self.calls.append(what)
        return call(self.domain)

    def wait_for_state(self, *args):
        return ("shutoff", "")

    def note_booted(self):
        pass


@pytest.fixture
def moving(tmp_path, monkeypatch, run_hosts):
    """(lab, guest, peer) with the peer lab in place; moved_to records instead of moving."""
    run_hosts("qemu:///system", PEER_URI)
    lab, peer = SimpleNamespace(uri="qemu:///system"), FakePeer(str(tmp_path))
    image = SimpleNamespace(kernel=DEST_KERNEL, initrd=DEST_INITRD, loader=None)
    monkeypatch.setitem(peers._PEERS, id(lab), (peer, image))
    moves = []
    monkeypatch.setattr(migration, "moved_to", lambda *args: moves.append(args))
    return lab, FakeGuest(), peer, moves


HOSTILE = {
    "a disk on a host file": (answer("<disk type='file' device='disk'><source file='/etc/shadow'/>"
                                     "<target dev='vda' bus='virtio'/></disk>"), "device"),
    "another instance's uuid": (answer(uuid="11111111-2222-3333-4444-555555555555"), "uuid"),
    "another domain's name": (answer(name="instance-2"), "name"),
    "a host kernel of its choosing": (answer(kernel="/boot/vmlinuz"), "boot-files"),
}


@pytest.mark.parametrize("operation", ["live_migrate", "cold_migrate", "evacuate"])
@pytest.mark.parametrize("hostile", HOSTILE, ids=lambda h: h.replace(" ", "-"))
def test_a_hostile_destination_answer_is_refused_before_libvirt_sees_it(moving, operation, hostile):
    lab, guest, peer, moves = moving
    xml, rule = HOSTILE[hostile]
    with pytest.raises(SandboxViolation) as refused:
        operations.performer(operation).perform(lab, guest, SOURCE, xml, operation)
    assert refused.value.rule == rule
    assert guest.calls == [] and guest.domain.migrations == [] and peer.touched == [] and moves == []
    assert os.listdir(peer.tmp) == []  # no console file left on the destination


def test_live_migration_parameters_are_the_harnesss(moving):
    lab, guest, peer, moves = moving
    socket = ("<channel type='unix'><source mode='bind' path='/run/libvirt/virtlogd-sock'/>"
              "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>")
    operations.performer("live_migrate").perform(lab, guest, SOURCE, answer(socket), "live_migrate")
    [(conn, params, flags)] = guest.domain.migrations
    assert conn is peer.conn and flags == migration.LIVE_FLAGS
    assert params[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://10.251.7.2"
    assert params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] == "10.251.7.2"
    dest = etree.fromstring(params[libvirt.VIR_MIGRATE_PARAM_DEST_XML].encode())
    assert dest.findtext("name") == SOURCE.name and dest.findtext("uuid") == UUID
    assert dest.findtext("os/kernel") == DEST_KERNEL
    assert "virtlogd-sock" not in params[libvirt.VIR_MIGRATE_PARAM_DEST_XML]  # libvirt's own socket
    assert dest.find("devices/serial/source").get("path") == os.path.join(peer.tmp, f"{SOURCE.name}.console.log")
    assert dest.find("metadata")[0].get("run") == "r2"  # the destination run's marker
    assert len(moves) == 1 and moves[0][3] == "the destination's domain"
    assert not operations.performer("live_migrate").restarts
    assert operations.performer("cold_migrate").restarts and operations.performer("evacuate").restarts


def _failing(code: int) -> libvirt.libvirtError:
    exc = libvirt.libvirtError("migration failed")
    exc.err = (code, 0, "migration failed", 0, "", None, None, 0, 0)
    return exc


def test_a_destination_lost_during_a_live_migration_is_that_hosts_error(moving):
    lab, guest, peer, moves = moving
    guest.domain.fails, peer.conn.is_alive = _failing(libvirt.VIR_ERR_OPERATION_FAILED), 0
    with pytest.raises(HostUnreachable) as lost:
        operations.performer("live_migrate").perform(lab, guest, SOURCE, answer(), "live_migrate")
    assert lost.value.uri == PEER_URI and moves == []
    assert os.listdir(peer.tmp) == []


def test_a_destination_that_refuses_the_answer_is_the_drivers_failure(moving):
    lab, guest, peer, moves = moving
    guest.domain.fails = _failing(libvirt.VIR_ERR_CONFIG_UNSUPPORTED)  # e.g. ABI: no watchdog
    with pytest.raises(DomainRefused, match="destination domain"):
        operations.performer("live_migrate").perform(lab, guest, SOURCE, answer(), "live_migrate")
    assert moves == []


def test_the_carried_console_keeps_the_boots_before_the_move(tmp_path):
    from conformance.lab.console import LocalConsole
    now = tmp_path / "dest.log"
    now.write_bytes(b"CONFORMANCE-BOOT boot_id=2\n")
    console = migration.CarriedConsole(b"CONFORMANCE-BOOT boot_id=1\n", LocalConsole(str(now)))
    assert console.read(1 << 20) == b"CONFORMANCE-BOOT boot_id=1\nCONFORMANCE-BOOT boot_id=2\n"
    assert console.read(5) == b"CONFO" and console.path == str(now)
    console.remove()
    assert not now.exists()


def test_a_one_host_live_headline_says_the_migrations_need_two_hosts():
    from conformance.report.headline import certification
    rows = []
    for i, operation in enumerate(("live_migrate", "live_migrate", "evacuate")):
        na = {"status": "n/a", "reason": peers.needs_hosts(operation, 2)}
        rows.append({"id": str(i), "verdict": "pass",
                     "levels": {"xml": {"status": "pass"}, "host": na, "guest": na}})
    headline = certification(rows, "guest")["headline"]
    assert headline.startswith("CERTIFIED, level full"), headline
    assert "evacuate, live_migrate need two hosts, this run had one: 3 cases at level xml only" in headline
    assert "two hosts" not in certification(rows, "xml")["headline"]


class RefusingDomain:
    """A destination domain libvirt defined but that does not start."""

    def __init__(self):
        self.removed = False

    def UUIDString(self):
        return UUID

    def create(self):
        raise libvirt.libvirtError("QEMU failed")

    def name(self):
        return SOURCE.name

    def isActive(self):
        return False

    def undefineFlags(self, flags):
        self.removed = True


@pytest.mark.parametrize("operation", ["cold_migrate", "evacuate"])
def test_a_domain_that_does_not_start_on_the_destination_leaves_nothing_there(moving, operation):
    """The destination's definition and console go again; the guest still names the source's
    domain (powered off), which the test's teardown removes."""
    lab, guest, peer, moves = moving
    refusing, removed_logs = RefusingDomain(), []
    peer.define = lambda xml: refusing
    peer.host = SimpleNamespace(remove=removed_logs.append)
    with pytest.raises(Exception, match="did not start"):
        operations.performer(operation).perform(lab, guest, SOURCE, answer(), operation)
    assert refusing.removed and removed_logs == [f"/var/log/libvirt/qemu/{SOURCE.name}.log"]
    assert os.listdir(peer.tmp) == [] and moves == []
    assert guest.calls == [f"the {operation}'s " + ("power off" if operation == "cold_migrate"
                                                   else "loss of the source host")]


class _VersionedLab:
    def __init__(self, uri, version):
        self.uri, self.version = uri, version

    def connected(self):
        lab = self

        class Conn:
            def getVersion(self):
                return lab.version
        return Conn()


def test_live_migration_to_an_older_hypervisor_is_no_verdict_on_the_driver():
    """QEMU 10.0 -> 7.2: the destination lacks the source's machine types and Nova refuses
    it (DestinationHypervisorTooOld): HostsIncompatible (a skip), never the driver's fail;
    equal or newer destinations pass."""
    from conformance.errors import HostsIncompatible
    from conformance.live.migration import _check_hypervisors
    new, old = _VersionedLab("qemu+tls://d13/system", 10000000), _VersionedLab("qemu:///system", 7002000)
    with pytest.raises(HostsIncompatible, match=r"QEMU 10\.0\.0.*QEMU 7\.2\.0.*DestinationHypervisorTooOld"):
        _check_hypervisors(new, old, "live_migrate")
    _check_hypervisors(old, new, "live_migrate")
    _check_hypervisors(old, old, "live_migrate")
