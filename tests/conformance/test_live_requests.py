"""Before any boot: the judged driver builds a domain for every live request the reference
accepts. The live request is the case's request plus two harness decisions (the host's virt
type, and the guest agent as command channel; see ``requests.live_request``). A driver that
rejects or crashes on it fails the case's host and guest levels, with its answer as reason,
instead of silently leaving them without a check."""

import pytest

from conformance.catalogue import CASES, LIFECYCLE_CASES
from conformance.contract import Accepted, driver_protocol
from conformance.drivers import run_driver
from conformance.live import plan, requests



@pytest.mark.parametrize("live_case", [c for c in CASES if plan.reference_boots(c)], ids=lambda c: c.slug)
def test_driver_builds_the_domain_to_boot(live_case, driver):
    """The driver accepts the live request of a case the reference would boot."""
    outcome = run_driver(driver, requests.live_request(live_case, "qemu"))
    assert isinstance(outcome, Accepted), (
        f"the driver refused the live request that the reference accepts: {outcome}; "
        "no domain to verify at host and guest level")


@pytest.mark.parametrize("live_case", [c for c in LIFECYCLE_CASES if plan.reference_boots(c)],
                         ids=lambda c: c.slug)
def test_driver_builds_both_domains_of_the_operation(live_case, driver):
    """For a lifecycle case the reference would boot, the driver builds the domain before the
    operation and the one after it (protocol-2 drivers; protocol 1 is certified on create only)."""
    if driver_protocol(driver) < 2:
        pytest.skip("the driver speaks protocol 1: certified on create only")
    for when, request in zip(("before", "after"), requests.live_requests(live_case, "qemu")):
        outcome = run_driver(driver, request)
        assert isinstance(outcome, Accepted), (
            f"the driver refused the live request {when} the {live_case.operation} that the "
            f"reference accepts: {outcome}; no domain to verify at host and guest level")
