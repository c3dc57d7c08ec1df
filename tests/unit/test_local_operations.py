"""Pause, suspend and shelve as the harness performs them (conformance.live.local_operations),
on a fake libvirt domain: the calls Nova's driver makes, in its order; the checks between
them (the managed save image exists, then is gone; the shelved domain is gone before the
new one is defined); a hostile after domain refused before the guest is touched; the kept
definition that shows a resume whose driver changed the domain."""

import uuid

import libvirt
import pytest

from conformance.errors import GuestError
from conformance.lab.history import GuestHistory
from conformance.lab.runs import Owner
from conformance.lab.sandbox import Placement, SandboxViolation, prepare
from conformance.lab.teardown import UNDEFINE_FLAGS
from conformance.live import LiveCheckFailed, local_operations
from conformance.live.operations import PERFORMERS, start_defined

KERNEL, INITRD = "/var/lib/conformance/images/x/vmlinuz", "/var/lib/conformance/images/x/initrd.img"
UUID = "11111111-2222-3333-4444-555555555555"
PLACEMENT = Placement(name="cfm-abcd1234-1-t", uuid=UUID, console_path="/var/lib/conformance/runs/abcd1234/c.log",
                      owner=Owner("abcd1234", 4242, "777"), virt_type="qemu", kernel=KERNEL,
                      initrd=INITRD, instance_name="instance-1", instance_uuid=UUID)


def driver_xml(devices: str = "", name: str = "instance-1", uuid_text: str = UUID) -> str:
    return (f"<domain type='qemu'><name>{name}</name><uuid>{uuid_text}</uuid>"
            "<memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<kernel>{KERNEL}</kernel><initrd>{INITRD}</initrd></os><devices>{devices}</devices></domain>")


RATE = "<rng model='virtio'><rate bytes='1024' period='1000'/><backend model='random'>/dev/urandom</backend></rng>"


def no_domain() -> libvirt.libvirtError:
    exc = libvirt.libvirtError("Domain not found")
    exc.err = (libvirt.VIR_ERR_NO_DOMAIN, 0, "Domain not found", 0, "", None, None, 0, 0)
    return exc


class FakeLibvirt:
    """One host's libvirt for one domain: its definition, state and managed save image."""

    def __init__(self, defined: str):
        self.calls: list[str] = []
        self.definition, self.state, self.image = defined, "running", False
        self.running_xml = defined
        self.fail: dict[str, libvirt.libvirtError] = {}
        self.keep_image = self.keep_domain = False

    def record(self, call: str):
        self.calls.append(call)
        if call in self.fail:
            raise self.fail[call]

    # the domain's calls
    def suspend(self):
        self.record("suspend")
        self.state = "paused"

    def resume(self):
        self.record("resume")
        self.state = "running"

    def setTime(self, time, flags):
        self.record("setTime")
        raise libvirt.libvirtError("QEMU guest agent is not connected")

    def managedSave(self, flags):
        self.record(f"managedSave({flags})")
        self.state, self.image = "shutoff", True

    def hasManagedSaveImage(self, flags):
        return int(self.image)

    def create(self):
        self.record("create")
        if self.definition is None:
            raise no_domain()
        if not self.image:
            self.running_xml = self.definition  # a cold start boots the definition
        self.state, self.image = "running", self.keep_image

    def destroy(self):
        self.record("destroy")
        self.state = "shutoff"

    def undefineFlags(self, flags):
        self.record(f"undefineFlags({flags})")
        if not self.keep_domain:
            self.definition, self.state = None, "gone"

    def XMLDesc(self, flags):
        assert flags == libvirt.VIR_DOMAIN_XML_INACTIVE
        return self.definition

    def UUIDString(self):
        return UUID

    # the connection's calls
    def lookupByUUIDString(self, key):
        if self.definition is None:
            raise no_domain()
        return self

    lookupByName = lookupByUUIDString

    def defineXML(self, xml):
        self.record("defineXML")
        self.definition = xml
        if self.state == "gone":
            self.state = "shutoff"
        return self


class FakeLink:
    def __init__(self, libvirt_):
        self.libvirt = libvirt_

    def call(self, what, call):
        return call(self.libvirt)


class FakeGuest:
    name, uuid = PLACEMENT.name, UUID

    def __init__(self, libvirt_):
        self.libvirt, self.link, self.history = libvirt_, FakeLink(libvirt_), GuestHistory()
        self.restarts = self.boots_noted = 0

    def state(self):
        return self.libvirt.state, "user" if self.libvirt.state == "paused" else ""

    def wait_for_state(self, state, timeout, reason=None):
        assert self.state()[0] == state, (self.state(), state)
        return self.state()

    def restarted(self):
        self.restarts += 1

    def note_booted(self):
        self.boots_noted += 1


class FakeLab:
    def __init__(self, libvirt_):
        self.libvirt = libvirt_

    def sandboxed(self, xml, placement):
        return prepare(xml, placement, lambda path: (1, 9))

    def define(self, xml):
        return self.libvirt.defineXML(xml)

    def connected(self):
        return self.libvirt


def setup(after: str | None = None):
    before = prepare(driver_xml(RATE), PLACEMENT, lambda path: (1, 9))
    virt = FakeLibvirt(before)
    return FakeLab(virt), FakeGuest(virt), virt, after or driver_xml(RATE)


def perform(operation: str, lab, guest, after: str):
    PERFORMERS[operation].perform(lab, guest, PLACEMENT, after, operation)


def test_the_registry_performs_the_three_operations():
    """pause and suspend keep the boot, shelve restarts the guest; all on one host."""
    assert {op: (PERFORMERS[op].restarts, PERFORMERS[op].hosts)
            for op in ("pause_unpause", "suspend_resume", "shelve_unshelve")} == {
        "pause_unpause": (False, 1), "suspend_resume": (False, 1), "shelve_unshelve": (True, 1)}
    assert PERFORMERS["shelve_unshelve"].perform.keywords == {"start": start_defined}


def test_pause_unpause_suspends_and_resumes_the_same_domain(monkeypatch):
    """Nova's pause/unpause: virDomainSuspend, virDomainResume, a time sync that may fail;
    nothing defined, no new QEMU process."""
    monkeypatch.setattr(local_operations, "PAUSE_HOLD", 0)
    lab, guest, virt, after = setup()
    perform("pause_unpause", lab, guest, after)
    assert virt.calls == ["suspend", "resume", "setTime"]
    assert virt.state == "running" and guest.restarts == 0 and guest.boots_noted == 1
    assert guest.history.definitions()[-1]["defined"] is None


def test_suspend_resume_is_a_managed_save_then_define_and_start():
    """Nova's suspend (managed save, flags 0: libvirt's own image path) and resume (define the
    domain, start it: libvirt restores the image); the image exists in between, is gone after."""
    lab, guest, virt, after = setup()
    perform("suspend_resume", lab, guest, after)
    assert virt.calls == ["managedSave(0)", "defineXML", "create"]
    assert not virt.image and virt.state == "running"
    assert guest.restarts == 1 and guest.boots_noted == 1
    assert guest.history.definitions()[-1]["defined"] == virt.definition


def test_a_resume_that_keeps_the_image_is_no_verdict():
    """libvirt started the domain but kept the image (it booted afresh): GuestError."""
    lab, guest, virt, after = setup()
    virt.keep_image = True
    with pytest.raises(GuestError, match="kept the managed save image"):
        perform("suspend_resume", lab, guest, after)


def test_a_failed_managed_save_is_the_guest_s_error_and_defines_nothing():
    lab, guest, virt, after = setup()
    virt.fail["managedSave(0)"] = libvirt.libvirtError("unable to save")
    with pytest.raises(GuestError, match="managed save failed"):
        perform("suspend_resume", lab, guest, after)
    assert "defineXML" not in virt.calls


def test_shelve_unshelve_undefines_then_spawns_a_new_domain():
    """Nova's shelve offload (power off, destroy + undefine) and unshelve (spawn: define and
    start the driver's domain with the instance's uuid), undefined with the teardown flags."""
    lab, guest, virt, after = setup()
    perform("shelve_unshelve", lab, guest, after)
    assert virt.calls == ["destroy", f"undefineFlags({UNDEFINE_FLAGS})", "defineXML", "create"]
    assert virt.state == "running" and virt.running_xml == virt.definition
    assert guest.restarts == 1 and guest.boots_noted == 1


def test_a_shelved_domain_still_defined_is_no_verdict():
    """The new domain is defined only once the old one is really gone."""
    lab, guest, virt, after = setup()
    virt.keep_domain = True
    with pytest.raises(GuestError, match="still defined after the shelve offload"):
        perform("shelve_unshelve", lab, guest, after)
    assert "defineXML" not in virt.calls


HOSTILE = {
    "another uuid": driver_xml(RATE, uuid_text=str(uuid.uuid4())),
    "another name": driver_xml(RATE, name="instance-2"),
    "a channel writing a managed save image": driver_xml(
        RATE + "<channel type='file'><source path='/var/lib/libvirt/qemu/save/victim.save'/>"
        "<target type='virtio' name='org.example.0'/></channel>"),
    "a QEMU command line that loads a saved state": driver_xml(RATE).replace(
        "</devices>", "</devices><qemu:commandline xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
        "<qemu:arg value='-incoming'/><qemu:arg value='exec:cat /etc/shadow'/></qemu:commandline>"),
}


@pytest.mark.parametrize("operation", ["pause_unpause", "suspend_resume", "shelve_unshelve"])
@pytest.mark.parametrize("hostile", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_after_domain_is_refused_before_the_guest_is_touched(operation, hostile):
    """The sandbox judges the driver's after domain first: refused, the guest runs on
    untouched (no pause, save, destroy or definition reached libvirt)."""
    lab, guest, virt, _ = setup()
    with pytest.raises(SandboxViolation):
        perform(operation, lab, guest, hostile)
    assert virt.calls == [] and virt.state == "running"


def test_a_resume_with_a_changed_domain_shows_in_the_kept_definition():
    """libvirt restores the saved domain but keeps the driver's definition: the check of the
    kept definition fails, naming what changed (the RNG rate dropped)."""
    lab, guest, virt, _ = setup()
    facts = {"operation": "suspend_resume", **local_operations.definition_facts(guest, "suspend_resume")}
    perform("suspend_resume", lab, guest, driver_xml(RATE.replace("<rate bytes='1024' period='1000'/>", "")))
    assert "<rate" in virt.running_xml  # the restored guest still has it
    with pytest.raises(LiveCheckFailed, match="rate") as caught:
        local_operations.check_kept_definition(guest, facts)
    assert caught.value.feature == "lifecycle" and caught.value.level == "host"


def test_an_unchanged_domain_passes_the_kept_definition_check():
    lab, guest, virt, after = setup()
    facts = {"operation": "suspend_resume", **local_operations.definition_facts(guest, "suspend_resume")}
    perform("suspend_resume", lab, guest, after)
    assert local_operations.check_kept_definition(guest, facts) == {"definition_unchanged": True}


def test_only_operations_that_keep_the_domain_record_the_definition():
    lab, guest, virt, after = setup()
    assert local_operations.definition_facts(guest, "shelve_unshelve") == {}
    assert local_operations.definition_facts(guest, "reboot") == {}
    assert set(local_operations.definition_facts(guest, "pause_unpause")) == {"definition_before"}


def test_kept_definition_ignores_metadata_only():
    """Nova rewrites its <metadata> (creationTime) whenever it writes a domain: not what the
    next start boots, so not a changed definition; the rest of the domain still counts."""
    from conformance.live.local_operations import kept_definition

    class Link:
        def __init__(self, xml):
            self.xml = xml

        def call(self, what, fn):
            return self.xml

    class Guest:
        def __init__(self, xml):
            self.link = Link(xml)

    one = "<domain><name>a</name><metadata><t>1</t></metadata><devices><rng/></devices></domain>"
    two = "<domain><name>a</name><metadata><t>2</t></metadata><devices><rng/></devices></domain>"
    three = "<domain><name>a</name><metadata><t>1</t></metadata><devices/></domain>"
    assert kept_definition(Guest(one)) == kept_definition(Guest(two))
    assert kept_definition(Guest(one)) != kept_definition(Guest(three))
