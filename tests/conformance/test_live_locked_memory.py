"""Locked memory: the pre-boot capability probe predicts what libvirt really does.

The live suite skips booting locked-memory guests when the measured host limits forbid it
(RLIMIT_MEMLOCK hard limit below the guest RAM and no CAP_SYS_RESOURCE in libvirtd). This
test checks that prediction once against libvirt: a predicted blocker must make the start
fail with a locked-memory error, and no blocker must let the guest start.
"""

import re
import uuid

import pytest

from conformance.errors import HostUnreachable
from conformance.live import HOST, locked_memory, plan, record
from fixtures.driver import groups_of

pytestmark = [pytest.mark.functional]
RAM_BYTES = 256 * 1024 * 1024
LOCK_ERROR = re.compile(r"locked memory|memlock|mlock", re.IGNORECASE)


def pytest_generate_tests(metafunc):
    """One item covering every locked-memory group: its host level rests on the prediction
    (a skipped boot is honest only if the prediction is right). No group, no item."""
    if "locked_groups" not in metafunc.fixturenames:
        return
    groups = tuple(g for g in groups_of(metafunc.config)  # encrypted ones: their own blocker
                   if g.expected.locked_memory and g.expected.mem_encryption is None)
    metafunc.parametrize("locked_groups", [pytest.param(groups, id="locked-groups")] if groups else [])


def test_blocker_prediction_matches_libvirt(request, locked_groups, guest_factory, guest_image,
                                            accelerator, driver, lab):
    """The measured blocker (or its absence) agrees with starting a locked guest for real."""
    groups = list(locked_groups)
    caps = lab.capabilities()
    if caps.unknown:
        pytest.skip(f"no prediction to check: {caps.unknown}")
    blocker = locked_memory.boot_blocker(RAM_BYTES, caps)
    record.describe(request.node, [i for g in groups for i in g.case_ids("locked_memory")],
                    "locked_memory", HOST, evidence={"blocker": blocker, "libvirtd": caps.to_dict()["libvirtd"]})
    name = f"instance-{uuid.uuid4().hex[:8]}"
    xml = plan.boot_xml(driver, groups[0], accelerator.virt_type, guest_image.boot, name,
                        str(uuid.uuid4()))
    try:
        guest_factory(xml, instance_name=name, slug="locked")
    except HostUnreachable:
        raise  # the host went away: no prediction was checked (an error naming the host)
    except Exception as exc:  # noqa: BLE001 - DomainRefused, a libvirt error or the lab's GuestError
        assert blocker, f"no blocker predicted, but the locked guest failed to start: {exc}"
        assert LOCK_ERROR.search(str(exc)), f"start failed for another reason: {exc}"
        return
    assert blocker is None, f"predicted {blocker!r}, but the locked guest started"
