"""Live conformance, levels 2 (host) and 3 (guest), of every feature on real guests.

Accepted catalogue cases are grouped by the domain the judged driver builds (plus what
the reference expects of it); each group boots one guest, shared by the host and guest
checks of every feature its cases cover and, last, by the destructive watchdog fire
(:func:`test_watchdog_fires`: the guest is reset, paused or powered off). pytest runs a
group's items back to back in definition order (host, guest, fire), so a serial run boots
each group once; ``xdist_group`` marks keep a group on one worker under
``--dist loadgroup`` (what ``conformance certify`` passes). Should an item of a group
ever run after its fire, it errors instead of checking a fired guest.
"""

import uuid

import pytest

from conformance.errors import HarnessError
from conformance.live import GUEST, HOST, agent, plan, record, requests
from conformance.live.grouping import GroupCheck
from fixtures.background import destroy_later, drain
from fixtures.driver import groups_of
from fixtures.guests import wait_ready, watchdog_fires

pytestmark = [pytest.mark.functional, pytest.mark.slow]

RAM_BYTES = 256 * 1024 * 1024  # the catalogue flavor's memory_mb


def pytest_generate_tests(metafunc):
    """Every test gets one GroupCheck per (group, feature) it checks. GroupChecks compare
    equal per group, so pytest runs a group's items back to back and boots its guest once."""
    if "live_group" not in metafunc.fixturenames:
        return
    name = metafunc.function.__name__
    if name == "test_watchdog_fires":
        params = [pytest.param(GroupCheck(g, "watchdog"), id=f"{g.expected.watchdog_action}-"
                               f"{g.key[:8]}", marks=_group_mark(g))
                  for g in groups_of(metafunc.config)
                  if g.expected.watchdog_action and g.case_ids("watchdog")]
    else:
        checks = plan.HOST_CHECKS if name == "test_host" else plan.GUEST_CHECKS
        params = [pytest.param(GroupCheck(g, f), id=f"{f}-{g.key[:8]}", marks=_group_mark(g))
                  for g in groups_of(metafunc.config) for f in g.features if f in checks]
    metafunc.parametrize("live_group", params, indirect=True, scope="module")


def _group_mark(group):
    return pytest.mark.xdist_group(f"live-{group.key[:12]}")


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
               conformance_config, lab):
    """One booted guest per group, destroyed when the module moves on to the next group;
    skipped (with the measured reason) when it cannot start on this host."""
    name, instance_uuid = f"instance-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    xml = plan.boot_xml(driver, live_group, accelerator.virt_type, guest_image.boot, name,
                        instance_uuid)
    reason = requests.boot_blocker(xml, accelerator.virt_type, RAM_BYTES, lab.capabilities())
    if reason:
        pytest.skip(reason)
    guest = module_guest_factory(xml, instance_name=name, instance_uuid=instance_uuid,
                                 slug=f"live-{live_group.key[:8]}")
    yield wait_ready(guest, conformance_config, agent=live_group.expected.agent)
    _FIRED.discard(guest.name)
    destroy_later(guest)  # the next group boots meanwhile; the factory's destroy then no-ops


@pytest.fixture(scope="module", autouse=True)
def _destroys_finish():
    """No guest destroyed in the background outlives this module."""
    yield
    drain()


_FIRED: set[str] = set()  # guests whose watchdog fired: no later check may use them


def group_guest(request, level: str):
    """The group's guest; a skip (guest cannot start here) is recorded with its reason."""
    try:
        guest = request.getfixturevalue("live_guest")
    except pytest.skip.Exception as exc:
        record.skipped_level(request.node, level, str(exc.msg))
        raise
    if guest.name in _FIRED:
        raise HarnessError(f"{guest.name}: its watchdog already fired; {request.node.name} "
                           f"ran after the group's last (destructive) item")
    request.node.user_properties.append(("guest", guest.name))
    return guest


def test_host(request, live_group):
    """What QEMU received (QMP, live XML, /proc) matches the reference's features."""
    feature = feature_of(request)
    record.describe(request.node, live_group.case_ids(feature), feature, HOST)
    guest = group_guest(request, HOST)
    with record.evidence_of(request.node) as box:
        agent.require_channel(guest, live_group.expected.agent, HOST)
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
        agent.require_channel(guest, live_group.expected.agent, GUEST)
        box["evidence"] = plan.GUEST_CHECKS[feature](guest, live_group.expected)


@pytest.mark.destructive
def test_watchdog_fires(request, live_group, conformance_config):
    """Arming the guest's i6300esb and starving it makes the domain do the requested action
    (on the group's guest, after every other check of the group)."""
    action = live_group.expected.watchdog_action
    record.describe(request.node, live_group.case_ids("watchdog"), "watchdog", GUEST,
                    destructive=action)
    if not live_group.expected.agent:
        reason = "arming the watchdog needs the guest agent; this configuration has none"
        record.skipped_level(request.node, GUEST, reason)
        pytest.skip(reason)
    guest = group_guest(request, GUEST)
    _FIRED.add(guest.name)
    with record.evidence_of(request.node) as box:
        agent.require_channel(guest, True, GUEST)
        box["evidence"] = watchdog_fires(guest, action, conformance_config)
