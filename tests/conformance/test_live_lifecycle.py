"""Live lifecycle conformance, levels 2 (host) and 3 (guest): features after a reboot,
stop/start, resize or rebuild, and what must persist across it.

Each accepted lifecycle case boots one guest from the judged driver's "before" domain; the
operation is applied as Nova's compute host does (stop, define the driver's regenerated XML
for the same domain, start: ``conformance.live.lifecycle.apply``), so a case costs two boots.
Its host and guest items share that guest (module-scoped parameter, like
test_live_features.py); the watchdog cases then fire the watchdog with the new action.
A protocol-1 driver has no lifecycle items (certified on create only).
"""

import uuid

import pytest

from conformance.live import GUEST, HOST, lifecycle, plan, record
from fixtures.driver import config_of, driver_spec_of
from fixtures.guests import watchdog_fires

pytestmark = [pytest.mark.functional, pytest.mark.slow]

RAM_BYTES = 256 * 1024 * 1024  # the catalogue flavors' memory_mb


def pytest_generate_tests(metafunc):
    """One parameter per lifecycle pair, named ``live_group`` so the report collector
    (conformance.report.selection.item_cases) attributes host/guest items to the case.
    test_guest only for features that have a guest-level check (else the level is n/a)."""
    if "live_group" not in metafunc.fixturenames:
        return
    checks = plan.HOST_CHECKS if metafunc.function.__name__ == "test_host" else plan.GUEST_CHECKS
    pairs = lifecycle.pairs_of(driver_spec_of(metafunc.config),
                               config_of(metafunc.config).exec_driver_timeout)
    params = [pytest.param(p, id=f"{p.operation}-{p.feature}-{p.name}-{p.case_id[:8]}")
              for p in pairs if p.feature in checks]
    metafunc.parametrize("live_group", params, indirect=True, scope="module")


@pytest.fixture(scope="module")
def live_group(request):
    return request.param


@pytest.fixture(scope="module")
def lifecycle_guest(request, live_group, lab, guest_image, accelerator, driver):
    """The pair's guest after the operation, with the facts recorded before it; skipped (with
    the measured reason) when the before or after domain cannot start on this host."""
    pair, virt_type = live_group, accelerator.virt_type
    timeouts = config_of(request.config)
    name, instance_uuid = f"instance-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    before_xml, after_xml = lifecycle.boot_xmls(driver, pair, virt_type, guest_image.boot,
                                                name, instance_uuid)
    for when, xml in (("before", before_xml), ("after", after_xml)):
        reason = plan.boot_blocker(xml, virt_type, RAM_BYTES, lab.capabilities())
        if reason:
            pytest.skip(f"{when} the {pair.operation}: {reason}")
    placement = lab.placement(guest_image.boot, slug=f"lc-{pair.case_id[:8]}",
                              instance_name=name, loader=guest_image.loader)
    guest = lab.start(before_xml, placement)
    try:
        boot_before = guest.wait_for_boot(timeouts.boot_timeout)
        if pair.before.agent:
            guest.wait_for_agent(timeouts.agent_timeout)
        facts = {"uuid": guest.uuid, "boot_before": boot_before, "operation": pair.operation}
        lifecycle.apply(lab, guest, placement, after_xml, pair.operation)
        lifecycle.wait_for_new_boot(guest, boot_before, timeouts.boot_timeout)
        if pair.after.agent:
            guest.wait_for_agent(timeouts.agent_timeout)
        yield guest, facts
    finally:
        guest.destroy()


def pair_guest(request, level: str):
    try:
        guest, facts = request.getfixturevalue("lifecycle_guest")
    except pytest.skip.Exception as exc:
        record.skipped_level(request.node, level, str(exc.msg))
        raise
    request.node.user_properties.append(("guest", guest.name))
    return guest, facts


def test_host(request, live_group):
    """After the operation, what QEMU received matches the reference's after features, and the
    domain is the same one (uuid), running, booted exactly once since the operation."""
    pair = live_group
    record.describe(request.node, pair.case_ids(), pair.feature, HOST, operation=pair.operation)
    guest, facts = pair_guest(request, HOST)
    with record.evidence_of(request.node) as box:
        box["evidence"] = {"persisted": lifecycle.check_persisted_host(guest, facts),
                           "features": plan.HOST_CHECKS[pair.feature](guest, pair.after)}


def test_guest(request, live_group, accelerator):
    """After the operation, the guest observes the after features, its agent answers again with
    the one new boot id, and a watchdog fires with the new action."""
    pair = live_group
    record.describe(request.node, pair.case_ids(), pair.feature, GUEST, operation=pair.operation)
    reason = plan.guest_blocker(pair.feature, accelerator.virt_type,
                                getattr(accelerator, "reason", "") or "")
    if reason is None and plan.needs_agent(pair.feature) and not pair.after.agent:
        reason = "in-guest checks need the guest agent; this configuration has none"
    if reason:
        record.skipped_level(request.node, GUEST, reason)
        pytest.skip(reason)
    guest, facts = pair_guest(request, GUEST)
    with record.evidence_of(request.node) as box:
        evidence = {"features": plan.GUEST_CHECKS[pair.feature](guest, pair.after)}
        if pair.after.agent:
            evidence["persisted"] = lifecycle.check_persisted_guest(guest, facts)
        if pair.feature == "watchdog" and pair.after.watchdog_action and pair.after.agent:
            evidence["fires"] = watchdog_fires(guest, pair.after.watchdog_action, config_of(request.config))
        box["evidence"] = evidence
