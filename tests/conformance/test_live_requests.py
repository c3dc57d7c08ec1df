"""Before any boot: the judged driver builds a domain for every live request the reference
accepts. The live request is the case's request plus two harness decisions (the host's virt
type, and the guest agent as command channel; see ``plan.live_request``). A driver that
rejects or crashes on it fails the case's host and guest levels, with its answer as reason,
instead of silently leaving them without a check."""

import pytest

from conformance.catalogue import CASES
from conformance.contract import Accepted
from conformance.drivers import run_driver
from conformance.live import plan



@pytest.mark.parametrize("live_case", [c for c in CASES if plan.reference_boots(c)], ids=lambda c: c.slug)
def test_driver_builds_the_domain_to_boot(live_case, driver):
    """The driver accepts the live request of a case the reference would boot."""
    outcome = run_driver(driver, plan.live_request(live_case, "qemu"))
    assert isinstance(outcome, Accepted), (
        f"the driver refused the live request that the reference accepts: {outcome}; "
        "no domain to verify at host and guest level")
