"""Live watchdog behaviour (level 3, destructive): the i6300esb fires and the domain obeys.

Each watchdog configuration boots its own guest (the action resets, pauses or powers it
off), once per distinct configuration of the judged driver.
"""

import uuid

import pytest

from conformance.live import GUEST, plan, record
from fixtures.driver import groups_of
from fixtures.guests import wait_ready, watchdog_fires

pytestmark = [pytest.mark.functional, pytest.mark.slow, pytest.mark.destructive]


def pytest_generate_tests(metafunc):
    if "fire_group" not in metafunc.fixturenames:
        return
    params = [pytest.param(g, id=f"{g.expected.watchdog_action}-{g.key[:8]}")
              for g in groups_of(metafunc.config)
              if g.expected.watchdog_action and g.case_ids("watchdog")]
    metafunc.parametrize("fire_group", params)


def test_watchdog_fires(request, fire_group, guest_factory, guest_image, accelerator, driver,
                        conformance_config):
    """Arming the guest's i6300esb and starving it makes the domain do the requested action."""
    action = fire_group.expected.watchdog_action
    record.describe(request.node, fire_group.case_ids("watchdog"), "watchdog", GUEST,
                    destructive=action)
    if not fire_group.expected.agent:
        reason = "arming the watchdog needs the guest agent; this configuration has none"
        record.skipped_level(request.node, GUEST, reason)
        pytest.skip(reason)
    name = f"instance-{uuid.uuid4().hex[:8]}"
    xml = plan.boot_xml(driver, fire_group, accelerator.virt_type, guest_image.boot, name,
                        str(uuid.uuid4()))
    guest = wait_ready(guest_factory(xml, instance_name=name, slug=f"wd-{action}"),
                       conformance_config)
    with record.evidence_of(request.node) as box:
        box["evidence"] = watchdog_fires(guest, action, conformance_config)
