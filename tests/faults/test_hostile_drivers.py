"""Hostile exec drivers end to end through the harness (run_driver, then lab.start with its
sandbox), in both exec modes (one-shot ``exec:`` and ``exec-stream:``): hangs and floods are
killed, oversized and entity-laden XML is refused without expansion, a foreign domain's
identity is never taken over, host paths never boot."""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from pathlib import Path

import libvirt
import pytest
from lxml import etree

from conformance.contract import Accepted, Image, Request
from conformance.drivers.exec import ExecDriver
from conformance.drivers.exec_stream import StreamDriver
from conformance.drivers.run import run_driver
from conformance.errors import DriverFault
from conformance.lab.cleanup import cleanup, owned_domains
from conformance.lab.sandbox import SandboxViolation
from conformance.waiters import wait_until

pytestmark = pytest.mark.functional

BROKEN = Path(__file__).resolve().parents[1] / "broken_drivers"
MODES = {"exec": ExecDriver, "exec-stream": StreamDriver}


@pytest.fixture(params=sorted(MODES))
def exec_driver(request):
    """exec_driver(script, *args, timeout=20): a broken script in this test's exec mode
    (closed after the test)."""
    made = []

    def make(script: str, *args, timeout: float = 20):
        made.append(MODES[request.param]([sys.executable, str(BROKEN / script), *map(str, args)],
                                          timeout=timeout))
        return made[-1]
    yield make
    for driver in made:
        getattr(driver, "close", lambda: None)()


def request_for(image, virt_type: str, name: str | None = None) -> Request:
    return Request(virt_type=virt_type, instance_name=name or f"instance-{uuid.uuid4().hex[:8]}",
                   instance_uuid=str(uuid.uuid4()), boot=image.boot,
                   image=Image(properties={"hw_qemu_guest_agent": "yes"}))


def through_harness(driver, lab, image, virt_type: str, own_name: bool = False):
    """What the harness does with a driver: run it, then sandbox, define and start its XML.
    ``own_name``: the harness imposes no instance name (the sandbox renames the guest)."""
    request = request_for(image, virt_type)
    outcome = run_driver(driver, request)
    assert isinstance(outcome, Accepted), outcome
    placement = lab.placement(image.boot, slug="hostile", loader=image.loader,
                              instance_name=None if own_name else request.instance_name)
    return lab.start(outcome.xml, placement), placement


def lab_domains(lab) -> set[str]:
    return {d.name() for d, _o in owned_domains(lab.connected(), run_id=lab.run.id)}


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_hanging_driver_is_killed_with_its_process_group(exec_driver, lab, guest_image, accelerator):
    """A driver that never answers: DriverFault(timeout) at its deadline, its whole process
    group (the grandchild too) is killed, nothing is defined."""
    before = lab_domains(lab)
    with pytest.raises(DriverFault) as err:
        through_harness(exec_driver("exec_hang.py", timeout=2), lab, guest_image,
                        accelerator.virt_type)
    assert err.value.kind == "timeout"
    grandchild = int(err.value.detail.split("grandchild pid ")[1].split()[0])
    wait_until(lambda: _gone(grandchild), 10, f"grandchild {grandchild} still alive")
    assert lab_domains(lab) == before


def test_flooding_driver_is_capped_and_killed(exec_driver, lab, guest_image, accelerator):
    """Endless stdout: DriverFault(bad-output) at the stdout cap, nothing defined."""
    before = lab_domains(lab)
    with pytest.raises(DriverFault, match=r"stdout exceeded \d+ bytes"):
        through_harness(exec_driver("exec_flood.py"), lab, guest_image, accelerator.virt_type)
    assert lab_domains(lab) == before


def test_megabytes_of_xml_are_refused_by_the_size_cap(exec_driver, lab, guest_image, accelerator):
    """4 MiB of (valid) domain XML is refused by the output cap; a Python driver returning
    it is refused by the XML size cap; nothing defined."""
    before = lab_domains(lab)
    with pytest.raises(DriverFault) as err:
        through_harness(exec_driver("exec_huge_xml.py"), lab, guest_image, accelerator.virt_type)
    assert err.value.kind == "bad-output" and "exceeded" in err.value.detail

    class Huge:
        def build(self, request):
            return "<domain type='qemu'><description>" + "x" * (4 << 20) + "</description></domain>"
    with pytest.raises(DriverFault, match="byte cap"):
        run_driver(Huge(), request_for(guest_image, accelerator.virt_type))
    assert lab_domains(lab) == before


@pytest.mark.parametrize("variant, kinds", [
    ("external-only", {"unsafe"}),
    # libxml2 refuses the bomb while parsing (amplification limit), before our DOCTYPE check
    ("with-bomb", {"unsafe", "not-xml"})])
def test_external_entity_and_billion_laughs_are_refused_unexpanded(variant, kinds, exec_driver, lab,
                                                                   guest_image, accelerator,
                                                                   tmp_path):
    """A DOCTYPE with an external entity (a host file), alone or with a billion-laughs bomb,
    is refused by the driver output parser and by the sandbox; the file's contents appear
    nowhere: not in the error, not in any domain's XML, not in the run directory."""
    token = f"host-secret-{secrets.token_hex(8)}"
    secret = tmp_path / "secret.txt"
    secret.write_text(token)
    driver = exec_driver("exec_entities.py", secret, variant)
    before = lab_domains(lab)
    with pytest.raises(DriverFault) as err:
        through_harness(driver, lab, guest_image, accelerator.virt_type)
    assert err.value.kind in kinds, str(err.value)
    raw = driver.build(request_for(guest_image, accelerator.virt_type))  # the raw output
    assert token not in raw and "&secret;" in raw
    placement = lab.placement(guest_image.boot, slug="entities")
    with pytest.raises(SandboxViolation, match="doctype|not-xml") as refused:
        lab.start(raw, placement)
    assert lab_domains(lab) == before
    seen = [str(err.value), str(refused.value)]
    seen += [d.XMLDesc(0) for d in lab.connected().listAllDomains(0)]
    seen += [p.read_bytes().decode(errors="replace") for p in lab.run.dir.rglob("*") if p.is_file()]
    assert not [s for s in seen if token in s]
    assert "lol" * 100 not in "".join(seen)


DECOY_XML = """<domain type='qemu'><name>{name}</name><uuid>{uuid}</uuid>
<memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>"""


@pytest.fixture
def decoy(lab):
    """A foreign domain (defined, not started, no ownership marker); removed afterwards."""
    conn = lab.connected()
    name, uid = f"dev-faults-decoy-{secrets.token_hex(4)}", str(uuid.uuid4())
    domain = conn.defineXML(DECOY_XML.format(name=name, uuid=uid))
    yield name, uid, domain.XMLDesc(0)
    try:
        conn.lookupByUUIDString(uid).undefine()
    except libvirt.libvirtError:
        pass


def test_driver_taking_a_foreign_domains_identity(decoy, exec_driver, lab, guest_image, accelerator):
    """A driver returning a foreign domain's <name> and <uuid>: refused when the harness asked
    for an instance name; renamed to a fresh harness identity when it did not. Either way the
    foreign domain's XML is unchanged, and cleanup (of that run and of dead runs) keeps it."""
    from conformance.lab.lab import Lab
    name, uid, original = decoy
    conn = lab.connected()
    driver = exec_driver("exec_identity.py", name, uid)
    with Lab(lab.uri, virt_type=accelerator.virt_type) as own:  # a run of its own to clean up
        with pytest.raises(SandboxViolation, match=r"\(name\)"):
            through_harness(driver, own, guest_image, accelerator.virt_type)
        assert lab_domains(own) == set()
        guest, placement = through_harness(driver, own, guest_image, accelerator.virt_type,
                                           own_name=True)
        assert (guest.name, guest.uuid) == (placement.name, placement.uuid)
        assert (guest.name, guest.uuid) != (name, uid)
        assert conn.lookupByName(name).XMLDesc(0) == original
        report = cleanup(conn, run_id=own.run.id)
        assert report.removed_domains == [placement.name]
    report = cleanup(conn)
    assert name not in report.removed_domains + report.kept_domains
    assert conn.lookupByName(name).XMLDesc(0) == original
    assert conn.lookupByUUIDString(uid).name() == name
    assert not conn.lookupByName(name).isActive()


@pytest.mark.parametrize("kind, path", [
    ("disk", "/etc/shadow"), ("commandline", "/etc/shadow"), ("acpi", "/etc/shadow"),
    ("channel-log", "{tmp}/host-file"), ("evdev", "/dev/input/event0")])
def test_host_paths_are_refused_before_boot(kind, path, exec_driver, lab, guest_image, accelerator,
                                           tmp_path):
    """Driver XML reaching a host path (a disk on /etc/shadow, <qemu:commandline>, an ACPI
    table file, a character-device log file, an evdev input) is a SandboxViolation: nothing
    defined, the host file untouched."""
    path = path.format(tmp=tmp_path)
    if path.startswith(str(tmp_path)):
        Path(path).write_text("keep me\n")
    before = lab_domains(lab)
    with pytest.raises(SandboxViolation):
        through_harness(exec_driver("exec_host_paths.py", kind, path), lab, guest_image,
                        accelerator.virt_type)
    assert lab_domains(lab) == before
    if path.startswith(str(tmp_path)):
        assert Path(path).read_text() == "keep me\n"


def test_serial_on_a_host_file_is_replaced_by_the_harness_console(exec_driver, lab, guest_image,
                                                                 accelerator, tmp_path):
    """A serial console on a host file is harness-owned: the sandbox replaces it with the
    run's console file, the guest boots, and the host file is never written."""
    target = tmp_path / "host-file"
    target.write_text("keep me\n")
    guest, placement = through_harness(exec_driver("exec_host_paths.py", "serial", target), lab,
                                       guest_image, accelerator.virt_type)
    try:
        guest.wait_for_boot(120)
        paths = {s.get("path") for s in guest.live_xml().iterfind("devices/*/source")}
        assert str(target) not in paths and placement.console_path in paths
    finally:
        guest.destroy()
    assert target.read_text() == "keep me\n"
