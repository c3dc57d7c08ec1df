"""What to verify live: catalogue cases -> guest groups -> per-feature checks per level.

:func:`live_cases` asks the reference what each catalogue case must do and the judged
driver what it does; accepted cases become :class:`~conformance.live.grouping.LiveCase`
(cases the reference or the driver refuse are judged at level 1 only; the requests
themselves and the boot blockers: :mod:`conformance.live.requests`).
:data:`HOST_CHECKS` / :data:`GUEST_CHECKS` map a feature to its check, fed from the
reference's ``Features``; :func:`guest_blocker` names why a guest level cannot run here.
No pytest, no configuration.
"""

from __future__ import annotations

import functools

from conformance.catalogue import CASES
from conformance.catalogue.expected import expected_outcome
from conformance.contract import Accepted, Boot, Request
from conformance.drivers import load_driver, run_driver
from conformance.errors import AnswerChanged, HarnessError
from conformance.live import (agent, cpu_tune, hidden_hypervisor, locked_memory, pmu, rng,
                              watchdog)
from conformance.live.grouping import GuestGroup, LiveCase, group, normalise
from conformance.live.operations import live_blocker
from conformance.live.requests import NotLive, live_request, live_requests

PLACEHOLDER_BOOT = Boot()

HOST_CHECKS = {
    "agent": lambda g, f: agent.check_host(g, f.agent),
    "watchdog": lambda g, f: watchdog.check_host(g, f.watchdog_action),
    "rng": lambda g, f: rng.check_host(g, rng.expected_from(f.rng)),
    "pmu": lambda g, f: pmu.check_host(g, f.pmu),
    "hidden_hypervisor": lambda g, f: hidden_hypervisor.check_host(g, f.hide_hypervisor),
    "locked_memory": lambda g, f, ram=None: {
        **locked_memory.check_host(g, f.locked_memory, ram or 256 * 1024 * 1024),
        **cpu_tune.check_host(g, f)},
}

GUEST_CHECKS = {
    "agent": lambda g, f: agent.check_guest(g, f.agent),
    "watchdog": lambda g, f: watchdog.check_guest_present(g, f.watchdog_action),
    "rng": lambda g, f: rng.check_guest(g, rng.expected_from(f.rng)),
    "pmu": lambda g, f: pmu.check_guest(g, f.pmu),
    "hidden_hypervisor": lambda g, f: hidden_hypervisor.check_guest(g, f.hide_hypervisor),
}


def guest_blocker(feature: str, virt_type: str, why: str = "") -> str | None:
    """Why ``feature``'s guest level cannot run on ``virt_type`` (None: it can).

    ``why`` is the accelerator probe's reason for its choice (e.g. why not KVM).
    """
    if feature == "pmu":
        return pmu.guest_kvm_reason(virt_type, why)
    if feature == "hidden_hypervisor":
        return hidden_hypervisor.guest_kvm_reason(virt_type, why)
    if feature == "locked_memory":
        return "locked memory has no guest-visible effect (host level only)"
    return None


def no_check_levels(case, virt_type: str = "qemu") -> dict[str, str]:
    """Levels at which no check exists for ``case`` ({level: reason}): both live levels when
    the reference rejects it (nothing to boot), the guest level of a feature without a
    guest-visible effect, both live levels of an operation the harness does not perform live
    (:func:`conformance.live.operations.live_blocker`).
    Every other level has a check that must report."""
    reason = live_blocker(case.operation)
    if reason:
        return {"host": reason, "guest": reason}
    if case.operation != "create":
        expected = expected_outcome(live_requests(case, virt_type)[1])
    else:
        expected = expected_outcome(live_request(case, virt_type))
    if not expected.accepted:
        what = "it" if case.operation == "create" else f"the {case.operation}"
        reason = f"reference rejects {what} ({expected.rejection.code}): nothing to boot, level 1 only"
        return {"host": reason, "guest": reason}
    if case.feature not in GUEST_CHECKS:
        return {"guest": guest_blocker(case.feature, virt_type) or f"{case.feature} has no guest-level check"}
    return {}


def reference_boots(case) -> bool:
    """Whether the reference builds a domain for the case's live request (for a lifecycle
    case: the domain after the operation)."""
    return "host" not in no_check_levels(case)


def needs_agent(feature: str) -> bool:
    """Guest-level checks run through the guest agent (the agent check itself excepted)."""
    return feature != "agent"


VIRT_TYPES = ("qemu", "kvm")  # what a host may boot with: cases share a guest only if both agree


def _answer(driver, request: Request) -> str:
    """The driver's domain XML for ``request``, or what it did instead (rejection, fault)."""
    try:
        outcome = run_driver(driver, request)
    except HarnessError as exc:
        return f"fault: {exc}"
    return outcome.xml if isinstance(outcome, Accepted) else f"rejected: {outcome.code}"


def live_cases(driver, virt_types: tuple[str, ...] = VIRT_TYPES,
               wanted: tuple[str, ...] | None = None) -> tuple[list[LiveCase], list[NotLive]]:
    """Accepted cases (reference and judged driver agree to build a domain) and the rest;
    only the ``wanted`` case ids when given (the driver is asked about those only).

    Each live case carries the driver's answer for every one of ``virt_types`` (the first
    decides whether it is live; the others only keep cases apart whose domains differ there)."""
    live, other = [], []
    for case in CASES:
        if wanted is not None and case.id not in wanted:
            continue
        request = live_request(case, virt_types[0])
        expected = expected_outcome(request)
        if not expected.accepted:
            other.append(NotLive(case.id, case.feature,
                                 f"reference rejects it ({expected.rejection.code}): level 1 only"))
            continue
        try:
            outcome = run_driver(driver, request)
        except HarnessError as exc:
            other.append(NotLive(case.id, case.feature, f"driver fault, no domain: {exc}"))
            continue
        if not isinstance(outcome, Accepted):
            other.append(NotLive(case.id, case.feature,
                                 f"driver rejected it ({outcome.code}): no domain to boot"))
            continue
        answers = ((virt_types[0], outcome.xml),) + tuple(
            (virt, _answer(driver, live_request(case, virt))) for virt in virt_types[1:])
        live.append(LiveCase(case.id, case.feature, case.name, outcome.xml, expected.features,
                             answers))
    return live, other


def groups(driver, virt_types: tuple[str, ...] = VIRT_TYPES,
           wanted: tuple[str, ...] | None = None) -> list[GuestGroup]:
    return group(live_cases(driver, virt_types, wanted)[0])


@functools.lru_cache(maxsize=None)
def judged_driver(driver_spec: str, exec_timeout: float | None = None):
    """The driver loaded from ``driver_spec``, once per process (``exec_timeout``: per-request
    deadline of an exec driver, and of an in-process driver's build(); None = the default):
    collection and the tests share it, so a driver with a worker process (Nova, exec-stream)
    starts it once, and a driver declared hung is hung for both (and for the session's other
    workers: :func:`conformance.drivers.hang.share`); the ``driver`` fixture closes it when
    the session ends (a later build starts it again)."""
    from conformance.drivers import hang
    timeout = {} if exec_timeout is None else {"exec_timeout": exec_timeout}
    driver = load_driver(driver_spec, **timeout)
    hang.watch(driver, timeout=exec_timeout, shared=hang.shared_file())
    return driver


@functools.lru_cache(maxsize=None)
def groups_of(driver_spec: str, exec_timeout: float | None = None,
              wanted: tuple[str, ...] | None = None) -> tuple[GuestGroup, ...]:
    """Groups of :func:`judged_driver` ``(driver_spec, exec_timeout)`` (of the ``wanted``
    cases only, when given: a certification of a few cases asks the driver about those),
    computed once per process.

    Deterministic (catalogue order), so every xdist worker parametrizes alike. Grouped on
    the domains of both virt types (the accelerator is not known yet); guests are rebuilt
    for the real accelerator, every case of the group (:func:`boot_xml`).
    """
    return tuple(groups(judged_driver(driver_spec, exec_timeout), wanted=wanted))


def boot_request(case_id: str, virt_type: str, boot: Boot, instance_name: str,
                 instance_uuid: str) -> Request:
    """The request to build the bootable domain of a case: real boot files and identity."""
    case = next(c for c in CASES if c.id == case_id)
    return live_request(case, virt_type, boot=boot, instance_name=instance_name,
                        instance_uuid=instance_uuid)


def boot_xml(driver, group_: GuestGroup, virt_type: str, boot: Boot, instance_name: str,
             instance_uuid: str) -> str:
    """The judged driver's domain for ``group_``, rebuilt with boot files and identity.

    Every case of the group is asked (its verdict rests on this boot): each must answer the
    same domain (:func:`~conformance.live.grouping.normalise`) for ``virt_type``, else
    :class:`AnswerChanged` names the case."""
    answers = []
    for case in group_.cases:
        request = boot_request(case.case_id, virt_type, boot, instance_name, instance_uuid)
        outcome = run_driver(driver, request)
        if not isinstance(outcome, Accepted):
            raise AnswerChanged(f"driver changed its answer for {case.case_id} (virt type "
                                f"{virt_type}): {outcome}")
        answers.append((case, outcome.xml))
    first, xml = answers[0]
    for case, other in answers[1:]:
        if normalise(other) != normalise(xml):
            raise AnswerChanged(
                f"driver changed its answer for {case.case_id} (virt type {virt_type}): its domain "
                f"differs from the one of {first.case_id} that the group's guest boots (the cases "
                "were grouped on equal domains), so this guest's checks would not cover it")
    return xml
