"""Live conformance, levels 2 (host) and 3 (guest), of every feature on real guests.

Accepted catalogue cases are grouped by the domain the judged driver builds (plus what
the reference expects of it); each group boots one guest, shared by the host and guest
checks of every feature its cases cover; pytest runs a group's items back to back, so a
serial run boots each group once. Under xdist (``-n 2``) a group may be split over both
workers and boot twice (still correct). Items carry ``xdist_group`` marks for
``--dist loadgroup``, which did not take effect with pytest 9.2 + xdist 3.8 here.
"""

import uuid

import pytest

from conformance.live import GUEST, HOST, plan, record
from conformance.live.grouping import GroupCheck
from fixtures.driver import groups_of
from fixtures.guests import wait_ready

pytestmark = [pytest.mark.functional, pytest.mark.slow]

RAM_BYTES = 256 * 1024 * 1024  # the catalogue flavor's memory_mb


def pytest_generate_tests(metafunc):
    """Both tests get one GroupCheck per (group, feature). GroupChecks compare equal per
    group, so pytest runs a group's items back to back and boots its guest once."""
    if "live_group" not in metafunc.fixturenames:
        return
    checks = plan.HOST_CHECKS if metafunc.function.__name__ == "test_host" else plan.GUEST_CHECKS
    params = [pytest.param(GroupCheck(g, f), id=f"{f}-{g.key[:8]}",
                           marks=pytest.mark.xdist_group(f"live-{g.key[:12]}"))
              for g in groups_of(metafunc.config) for f in g.features if f in checks]
    metafunc.parametrize("live_group", params, indirect=True, scope="module")


def feature_of(request) -> str:
    """This item's feature (the fixture value is shared by the whole group)."""
    return request.node.callspec.params["live_group"].feature


def accelerator_reason(accelerator) -> str:
    return getattr(accelerator, "reason", "") or ""


@pytest.fixture(scope="module")
def live_group(request):
    """The guest group of this item (shared by all its features' items)."""
    return request.param.group


@pytest.fixture(scope="module")
def live_guest(live_group, module_guest_factory, guest_image, accelerator, driver,
               conformance_config):
    """One booted guest per group, destroyed when the module moves on to the next group;
    skipped (with the measured reason) when it cannot start on this host."""
    name = f"instance-{uuid.uuid4().hex[:8]}"
    xml = plan.boot_xml(driver, live_group, accelerator.virt_type, guest_image.boot, name,
                        str(uuid.uuid4()))
    reason = plan.boot_blocker(xml, accelerator.virt_type, RAM_BYTES)
    if reason:
        pytest.skip(reason)
    guest = module_guest_factory(xml, instance_name=name, slug=f"live-{live_group.key[:8]}")
    yield wait_ready(guest, conformance_config, agent=live_group.expected.agent)
    guest.destroy()


def group_guest(request, level: str):
    """The group's guest; a skip (guest cannot start here) is recorded with its reason."""
    try:
        guest = request.getfixturevalue("live_guest")
    except pytest.skip.Exception as exc:
        record.skipped_level(request.node, level, str(exc.msg))
        raise
    request.node.user_properties.append(("guest", guest.name))
    return guest


def test_host(request, live_group):
    """What QEMU received (QMP, live XML, /proc) matches the reference's features."""
    feature = feature_of(request)
    record.describe(request.node, live_group.case_ids(feature), feature, HOST)
    guest = group_guest(request, HOST)
    with record.evidence_of(request.node) as box:
        box["evidence"] = plan.HOST_CHECKS[feature](guest, live_group.expected)


def test_guest(request, live_group, accelerator):
    """What the guest observes (through the guest agent) matches the reference's features."""
    feature = feature_of(request)
    record.describe(request.node, live_group.case_ids(feature), feature, GUEST)
    reason = plan.guest_blocker(feature, accelerator.virt_type, accelerator_reason(accelerator))
    if reason is None and plan.needs_agent(feature) and not live_group.expected.agent:
        reason = "in-guest checks need the guest agent; this configuration has none"
    if reason:
        record.skipped_level(request.node, GUEST, reason)
        pytest.skip(reason)
    guest = group_guest(request, GUEST)
    with record.evidence_of(request.node) as box:
        box["evidence"] = plan.GUEST_CHECKS[feature](guest, live_group.expected)
