"""A hostile answer to each protocol-3 operation is refused by the sandbox at level xml, as a
create answer is (conformance/lab/sandbox.py), and reaches nothing on the host.

What a migration, a managed save or a clean shutdown hands libvirt besides the domain (the
migration URI and flags, the destination, the save file, the shutdown and its timeout) is
not in the protocol at all: a driver answers a domain XML or a rejection, nothing else. The
answers here try to choose those through the XML: a QEMU command line that listens for an
incoming migration or loads a saved state from a path, a serial "save file", a host disk.
"""

import sys
from pathlib import Path

import pytest

from conformance.catalogue import LIFECYCLE_CASES
from conformance.checks.level_xml import judge_xml
from conformance.contract import PROTOCOL_3_OPERATIONS
from conformance.reference import ReferenceDriver

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from broken_drivers._hostile import BY_NAME, QEMU_NS, Paths  # noqa: E402


def _commandline(*args: str):
    values = "".join(f"<qemu:arg value='{a}'/>" for a in args)
    return lambda xml, p: xml.replace(
        "</vcpu>", f"</vcpu><qemu:commandline xmlns:qemu='{QEMU_NS}'>{values}</qemu:commandline>", 1)


def _named(name: str):
    return BY_NAME[name].make


# operation -> (what the hostile driver tries, how it writes its answer, the sandbox rule)
HOSTILE = {
    "live_migrate": ("a migration URI of its own choosing",
                     _commandline("-incoming", "tcp:0.0.0.0:49152"), "foreign-namespace"),
    "cold_migrate": ("a host file as the migrated disk", _named("disk-file"), "device"),
    "suspend_resume": ("a saved state loaded from a path of its choosing",
                       lambda xml, p: _commandline("-incoming", f"exec:cat {p.existing}")(xml, p),
                       "foreign-namespace"),
    "pause_unpause": ("its own emulator", _named("emulator-script"), "emulator"),
    "shelve_unshelve": ("the host's root file system", _named("filesystem-root"), "device"),
    "evacuate": ("a network script on the new host", _named("interface-ethernet-script"), "device"),
    "soft_reboot": ("a serial log written where it likes, in a second <devices>",
                    _named("second-devices-serial-file"), "schema"),
    "clean_stop_start": ("a core dump of the guest on crash", _named("on-crash-coredump"), "lifecycle"),
}


class HostileAfter:
    """The reference, except for ``operation``: its answer made hostile."""

    protocol = 3

    def __init__(self, operation: str, make, canary_dir: str):
        self.name = f"hostile-{operation}"
        self.operation, self.make, self.paths = operation, make, Paths(canary_dir)

    def build(self, request) -> str:
        xml = ReferenceDriver().build(request)
        return self.make(xml, self.paths) if request.operation == self.operation else xml


@pytest.fixture
def canaries(tmp_path):
    (tmp_path / "existing").write_text("canary\n")
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\ntouch \"$0.ran\"\n")
    script.chmod(0o755)
    yield tmp_path
    assert (tmp_path / "existing").read_text() == "canary\n"
    assert not (tmp_path / "created").exists() and not (tmp_path / "script.ran").exists()


def test_every_protocol_3_operation_has_a_hostile_answer():
    assert set(HOSTILE) == set(PROTOCOL_3_OPERATIONS)


@pytest.mark.parametrize("operation", PROTOCOL_3_OPERATIONS)
def test_a_hostile_answer_fails_its_case_with_the_sandbox_rule(operation, canaries):
    """The first accepted case of the operation fails, the sandbox's refusal its reason; the
    driver's answer never changes a canary."""
    what, make, rule = HOSTILE[operation]
    driver = HostileAfter(operation, make, str(canaries))
    case = next(c for c in LIFECYCLE_CASES if c.operation == operation
                and judge_xml(c, ReferenceDriver()).passed)
    verdict = judge_xml(case, driver)
    assert verdict.outcome == "fail", what
    checks = {f["check"] for f in verdict.evidence["findings"]}
    assert f"sandbox.{rule}" in checks, (what, verdict.reason)


@pytest.mark.parametrize("operation", ["live_migrate", "cold_migrate"])
def test_the_source_domain_is_the_harness_s(operation):
    """A migration's source_domain is written by the harness (the reference's create answer on
    the source host at level xml), never taken from the judged driver."""
    case = next(c for c in LIFECYCLE_CASES if c.operation == operation)
    request = case.request()
    created = case.before_request()
    assert request.source_domain == ReferenceDriver().build(created)
