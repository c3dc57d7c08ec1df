"""Live lifecycle verification: boot "before", apply the operation as a compute host does,
verify "after" and what must persist.

A lifecycle catalogue case (``Case.operation`` other than create) becomes a
:class:`LifecyclePair` when the reference and the judged driver accept both the instance's
state before the operation and the request after it. One guest serves the pair: it boots
the before domain, then :func:`apply` does what Nova's compute host does for every one of
these operations (``_hard_reboot`` for reboot and power on, ``finish_migration`` for resize,
``spawn`` for rebuild): stop the domain, define the driver's new XML for the same domain
(same libvirt name and uuid), start it. The after domain is then checked with the
per-feature host and guest checks of ``conformance.live.plan`` against the reference's after
features, plus what must persist across the operation (:mod:`conformance.live.persistence`,
judged on the driver's own answers). The guest keeps the instance uuid the request carries
(the sandbox refuses any other: rule ``uuid``).
A pair alone costs two boots; :mod:`conformance.live.trails` chains pairs whose after and
before domains are equal (``before_key``/``after_key``) so one guest serves several operations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from conformance.catalogue import LIFECYCLE_CASES
from conformance.catalogue.expected import expected_outcome
from conformance.contract import Accepted, Boot, Request, driver_protocol
from conformance.drivers import run_driver
from conformance.errors import HarnessError
from conformance.live.clean_shutdown import boot_kind
from conformance.live.grouping import config_key
from conformance.live.operations import live_blocker, performer
from conformance.live.persistence import new_boots
from conformance.live.plan import judged_driver
from conformance.live.requests import NotLive, live_requests, may_not_boot
from conformance.waiters import wait_until


@dataclass(frozen=True, eq=False)
class LifecyclePair:
    """One lifecycle case to verify live. Duck-types ``live.grouping.GroupCheck``
    (``feature``, ``group.case_ids(feature)``) so the report collector attributes its items."""
    case_id: str
    feature: str
    name: str
    operation: str
    before: object  # the reference's Features before the operation
    after: object  # ... and after it
    before_key: str = ""  # config_key of the driver's before domain and ``before``
    after_key: str = ""  # ... of its after domain and ``after``
    terminal: bool = False  # its guest check fires the watchdog: no operation may follow
    isolated: bool = False  # a domain that may not start on every host, or a guest that
    # moves to another host (trails of their own)

    @property
    def group(self) -> "LifecyclePair":
        return self

    @property
    def expected(self):
        return self.after

    def case_ids(self, feature: str | None = None) -> list[str]:
        return [self.case_id] if feature in (None, self.feature) else []

    def __eq__(self, other) -> bool:
        return isinstance(other, LifecyclePair) and other.case_id == self.case_id

    def __hash__(self) -> int:
        return hash(self.case_id)


def _built(driver, request: Request) -> tuple[str | None, str | None]:
    """(the domain ``driver`` builds for ``request``, None) or (None, why it builds none)."""
    try:
        outcome = run_driver(driver, request)
    except HarnessError as exc:
        return None, f"driver fault, no domain: {exc}"
    if isinstance(outcome, Accepted):
        return outcome.xml, None
    return None, f"driver rejected it ({outcome.code})"


def live_pairs(driver, virt_type: str = "qemu",
               wanted: tuple[str, ...] | None = None) -> tuple[list[LifecyclePair], list[NotLive]]:
    """Lifecycle cases whose before and after domains the reference and the driver accept
    (of the ``wanted`` case ids only, when given)."""
    pairs, other = [], []
    for case in LIFECYCLE_CASES:
        if wanted is not None and case.id not in wanted:
            continue
        if driver_protocol(driver) < 2:
            other.append(NotLive(case.id, case.feature, "the driver speaks protocol 1: "
                                 "certified on create only"))
            continue
        blocker = live_blocker(case.operation)
        if blocker:
            other.append(NotLive(case.id, case.feature, blocker))
            continue
        before, after = live_requests(case, virt_type)
        want_before, want_after = expected_outcome(before), expected_outcome(after)
        if not want_after.accepted:
            other.append(NotLive(case.id, case.feature, f"reference rejects the {case.operation} "
                                 f"({want_after.rejection.code}): level 1 only"))
            continue
        (before_xml, why), after_xml = _built(driver, before), None
        if not why:
            after_xml, why = _built(driver, after)
        if why:
            other.append(NotLive(case.id, case.feature, why))
            continue
        fin, boot = want_after.features, boot_kind(case.operation)  # trails keep one command line
        pairs.append(LifecyclePair(
            case.id, case.feature, case.name, case.operation, want_before.features, fin,
            boot + config_key(before_xml, want_before.features), boot + config_key(after_xml, fin),
            terminal=case.feature == "watchdog" and bool(fin.watchdog_action and fin.agent),
            isolated=(may_not_boot(before_xml) or may_not_boot(after_xml)
                      or performer(case.operation).hosts > 1)))  # its guest moves away
    return pairs, other


@functools.lru_cache(maxsize=None)
def pairs_of(driver_spec: str, exec_timeout: float | None = None,
             wanted: tuple[str, ...] | None = None) -> tuple[LifecyclePair, ...]:
    """The pairs of :func:`conformance.live.plan.judged_driver` ``(driver_spec,
    exec_timeout)`` (the instance the tests use; the ``wanted`` cases only, when given),
    once per process (deterministic)."""
    return tuple(live_pairs(judged_driver(driver_spec, exec_timeout), wanted=wanted)[0])


def boot_xmls(driver, pair: LifecyclePair, virt_type: str, boot: Boot, instance_name: str,
              instance_uuid: str) -> tuple[str, str]:
    """The judged driver's before and after domains with real boot files and one identity."""
    case = next(c for c in LIFECYCLE_CASES if c.id == pair.case_id)
    xmls = []
    for request in live_requests(case, virt_type, boot=boot, instance_name=instance_name,
                                 instance_uuid=instance_uuid):
        outcome = run_driver(driver, request)
        if not isinstance(outcome, Accepted):
            raise HarnessError(f"driver changed its answer for {case.id} ({request.operation}): "
                               f"{outcome}")
        xmls.append(outcome.xml)
    return xmls[0], xmls[1]


def apply(lab, guest, placement, after_xml: str, operation: str) -> dict:
    """Do ``operation`` to the running ``guest`` as Nova's compute host does
    (:mod:`conformance.live.operations`); what the performer recorded for the persistence
    checks (e.g. how the guest's shutdown went), or {}."""
    return performer(operation).perform(lab, guest, placement, after_xml, operation) or {}


def moves_guest(operation: str) -> bool:
    """Whether ``operation`` leaves the guest on another host of the run (no later pair's)."""
    return performer(operation).hosts > 1


def settle(guest, facts: dict, timeout: float) -> None:
    """Wait until the operation's effect on the boot shows: the one new boot marker of an
    operation that restarts the guest, else the domain running again."""
    if performer(facts["operation"]).restarts:
        wait_for_new_boot(guest, facts["boots_seen"], timeout)
    else:
        wait_until(lambda: guest.state()[0] == "running", timeout,
                   f"{guest.name}: not running again after the {facts['operation']}",
                   detail=lambda: guest.console_tail())


def wait_for_new_boot(guest, seen, timeout: float) -> str:
    boots = wait_until(lambda: new_boots(guest, seen) or None, timeout,
                       f"{guest.name}: no new boot marker after the operation",
                       detail=lambda: guest.console_tail())
    return boots[0]


__all__ = ["LifecyclePair", "live_pairs", "pairs_of", "boot_xmls", "apply", "moves_guest", "settle",
           "wait_for_new_boot"]
