"""Live lifecycle conformance, levels 2 (host) and 3 (guest): features after a reboot,
stop/start, resize or rebuild, and what must persist across it.

Each accepted lifecycle case (a pair: before -> after domain) is applied as Nova's compute
host does (stop, define the driver's regenerated XML for the same domain, start:
``conformance.live.lifecycle.apply``) to a guest running the judged driver's "before"
domain. Pairs run in trails (:mod:`conformance.live.trails`): when the guest the previous
pair left runs a domain equal to this pair's before domain (same normalised XML and
expected features, compared on the XML the driver builds now), the operation is applied
to it; otherwise a fresh guest boots the before domain. The guest keeps the instance uuid
the requests carry (the sandbox refuses a driver answering another). Either way the pair
records the boot ids and the driver's own before and after answers right before its
operation (:func:`conformance.live.persistence.facts_before`), and its checks judge those
answers, the running domain's uuid and the guest's SMBIOS uuid, given exactly one new boot.
A guest whose pair failed or fired its watchdog is not reused.
Its host and guest items share the guest (module-scoped parameter, like
test_live_features.py); the watchdog cases then fire the watchdog with the new action.
A protocol-1 driver has no lifecycle items (certified on create only).
"""

import uuid
from dataclasses import dataclass

import pytest

from conformance.errors import HostsIncompatible
from conformance.live import GUEST, HOST, agent, lifecycle, persistence, plan, record, requests, trails
from conformance.live.clean_shutdown import boot_for
from conformance.live.grouping import config_key
from fixtures.artifacts import keep
from fixtures.background import destroy_later, drain
from fixtures.driver import config_of, pairs_of
from fixtures.guests import wait_for_agent, watchdog_fires

pytestmark = [pytest.mark.functional, pytest.mark.slow]

RAM_BYTES = 256 * 1024 * 1024  # the catalogue flavors' memory_mb


def pytest_generate_tests(metafunc):
    """One parameter per lifecycle pair, named ``live_group`` so the report collector
    (conformance.report.selection.item_cases) attributes host/guest items to the case; in
    trail order, the id ending in the trail's first case id prefix (the xdist work unit,
    fixtures.scheduling). test_guest only for features that have a guest-level check."""
    if "live_group" not in metafunc.fixturenames:
        return
    checks = plan.HOST_CHECKS if metafunc.function.__name__ == "test_host" else plan.GUEST_CHECKS
    pairs = pairs_of(metafunc.config)
    params = [pytest.param(p, id=f"{p.operation}-{p.feature}-{p.name}-{p.case_id[:8]}-"
                                 f"{trail[0].case_id[:8]}")
              for trail in trails.plan_trails(list(pairs)) for p in trail if p.feature in checks]
    metafunc.parametrize("live_group", params, indirect=True, scope="module")


@pytest.fixture(scope="module")
def live_group(request):
    return request.param


@dataclass
class Held:
    """A guest a pair leaves for the next one: its identity and the domain it runs."""
    guest: object
    placement: object
    name: str
    instance_uuid: str
    key: str  # config_key of the domain it runs (the last after domain) and its features
    reusable: bool = True


@pytest.fixture(scope="module")
def trail():
    """Holds the guest the last pair left (``trail["held"]``); destroyed when the module ends,
    after every guest destroyed in the background (:mod:`fixtures.background`)."""
    carrier = {}
    yield carrier
    held = carrier.pop("held", None)
    if held is not None:
        held.guest.destroy()
    drain()


def _identity() -> tuple[str, str]:
    return f"instance-{uuid.uuid4().hex[:8]}", str(uuid.uuid4())


@pytest.fixture(scope="module")
def lifecycle_guest(request, live_group, trail, lab, guest_image, accelerator, driver):
    """The pair's guest after the operation, with the facts recorded before it, and its
    :class:`Held`; skipped (with the measured reason) when the before or after domain
    cannot start on this host. The guest is the held one when it runs the before domain."""
    pair, virt_type, timeouts = live_group, accelerator.virt_type, config_of(request.config)
    held = trail.pop("held", None)
    boot = boot_for(pair.operation, guest_image.boot)  # ACPI on where the guest is asked
    name, instance_uuid = (held.name, held.instance_uuid) if held else _identity()
    before_xml, after_xml = lifecycle.boot_xmls(driver, pair, virt_type, boot,
                                                name, instance_uuid)
    for when, xml in (("before", before_xml), ("after", after_xml)):
        reason = requests.boot_blocker(xml, virt_type, RAM_BYTES, lab.capabilities())
        if reason:
            if held is not None:
                trail["held"] = held
            pytest.skip(f"{when} the {pair.operation}: {reason}")
    reuse = (held is not None and held.reusable and held.guest.state()[0] == "running"
             and held.key == config_key(before_xml, pair.before)
             and held.placement.cmdline == boot.cmdline)
    if reuse:
        guest, placement = held.guest, held.placement
    else:
        if held is not None:
            destroy_later(held.guest)  # this pair's guest boots meanwhile
            name, instance_uuid = _identity()
            before_xml, after_xml = lifecycle.boot_xmls(driver, pair, virt_type, boot,
                                                        name, instance_uuid)
        placement = lab.placement(boot, slug=f"lc-{pair.case_id[:8]}",
                                  instance_name=name, loader=guest_image.loader,
                                  instance_uuid=instance_uuid)
        guest = lab.start(before_xml, placement)
    try:
        if not reuse:
            guest.wait_for_boot(timeouts.boot_timeout)
            if pair.before.agent:
                wait_for_agent(guest, timeouts)
        facts = {**persistence.facts_before(guest, pair, before_xml, after_xml, name,
                                            instance_uuid), "guest_reused": reuse}
        facts.update(lifecycle.apply(lab, guest, placement, after_xml, pair.operation))
        lifecycle.settle(guest, facts, timeouts.boot_timeout)
        if pair.after.agent:
            wait_for_agent(guest, timeouts)
    except HostsIncompatible as exc:  # not the driver's doing: a skip naming why
        guest.destroy()
        pytest.skip(str(exc))
    except BaseException as exc:
        keep(guest, exc)  # its artefacts, for the report of the failed pair
        guest.destroy()
        raise
    held = Held(guest, placement, name, instance_uuid, config_key(after_xml, pair.after),
                reusable=not lifecycle.moves_guest(pair.operation))  # it left the host
    yield guest, facts, held
    if held.reusable:
        trail["held"] = held
    else:
        destroy_later(guest)


def pair_guest(request, level: str):
    try:
        guest, facts, held = request.getfixturevalue("lifecycle_guest")
    except pytest.skip.Exception as exc:
        record.skipped_level(request.node, level, str(exc.msg))
        raise
    request.node.user_properties.append(("guest", guest.name))
    return guest, facts, held


def test_host(request, live_group):
    """After the operation, what QEMU received matches the reference's after features, the
    driver answered the instance's identity before and after it and changed what it changes,
    and the running domain is that instance (uuid), booted exactly once since."""
    pair = live_group
    record.describe(request.node, pair.case_ids(), pair.feature, HOST, operation=pair.operation)
    guest, facts, held = pair_guest(request, HOST)
    try:
        with record.evidence_of(request.node) as box:
            agent.require_channel(guest, pair.after.agent, HOST)
            box["evidence"] = {"persisted": persistence.check_persisted_host(guest, facts),
                               "features": plan.HOST_CHECKS[pair.feature](guest, pair.after)}
    except BaseException:
        held.reusable = False  # a failed pair's guest serves no further operation
        raise


def test_guest(request, live_group, accelerator):
    """After the operation, the guest observes the after features, its agent answers again with
    the one new boot id, it reads the instance's uuid as its SMBIOS uuid, and a watchdog fires
    with the new action."""
    pair = live_group
    record.describe(request.node, pair.case_ids(), pair.feature, GUEST, operation=pair.operation)
    reason = plan.guest_blocker(pair.feature, accelerator.virt_type,
                                getattr(accelerator, "reason", "") or "")
    if reason is None and plan.needs_agent(pair.feature) and not pair.after.agent:
        reason = "in-guest checks need the guest agent; this configuration has none"
    if reason:
        record.skipped_level(request.node, GUEST, reason)
        pytest.skip(reason)
    guest, facts, held = pair_guest(request, GUEST)
    fires = pair.feature == "watchdog" and pair.after.watchdog_action and pair.after.agent
    held.reusable = held.reusable and not fires
    try:
        with record.evidence_of(request.node) as box:
            agent.require_channel(guest, pair.after.agent, GUEST)
            evidence = {"features": plan.GUEST_CHECKS[pair.feature](guest, pair.after)}
            if pair.after.agent:
                evidence["persisted"] = persistence.check_persisted_guest(guest, facts)
            if fires:
                evidence["fires"] = watchdog_fires(guest, pair.after.watchdog_action,
                                                   config_of(request.config))
            box["evidence"] = evidence
    except BaseException:
        held.reusable = False
        raise
