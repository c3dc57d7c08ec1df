"""Level 1 (XML) conformance: every catalogue case (create-time and lifecycle) against the driver
under test (--driver), and the reference served over the exec protocol must be judged exactly
like in-process. A protocol-1 driver's lifecycle cases are skipped (certified on create only)."""

import sys

import pytest
from lxml import etree

from conformance.catalogue import ALL_CASES
from conformance.checks.level_xml import judge_xml
from conformance.drivers import load_driver
from conformance.reference import ReferenceDriver


@pytest.fixture(scope="module")
def exec_reference():
    driver = load_driver(f"exec3-stream:{sys.executable} -m conformance.cli driver-exec reference")
    yield driver
    driver.close()


def case_id(case) -> str:
    """Parametrize id: <feature>-<name>-<uuid8>."""
    return case.slug


def canonical(xml: str) -> bytes:
    return etree.tostring(etree.fromstring(xml.encode()), method="c14n")


def passed_or_skip(verdict) -> bool:
    if verdict.outcome == "skip":
        pytest.skip(verdict.reason)
    return verdict.outcome == "pass"


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_case(case, driver):
    """The driver's answer matches the reference's decision: same rejection code, or XML that
    expresses every expected feature, adds nothing contradicting it and is a valid libvirt domain
    (for a lifecycle case: the domain after the operation)."""
    verdict = judge_xml(case, driver)
    assert passed_or_skip(verdict), verdict.reason


@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_exec_reference_judged_like_in_process(case, exec_reference):
    """`exec3-stream:python -m conformance.cli driver-exec reference` gets the same verdict and the same
    (canonical) XML as the in-process reference."""
    direct, served = judge_xml(case, ReferenceDriver()), judge_xml(case, exec_reference)
    assert served.outcome == direct.outcome == "pass", served.reason
    assert served.evidence["observed"] == direct.evidence["observed"]
    if "xml" in direct.evidence:
        assert canonical(served.evidence["xml"]) == canonical(direct.evidence["xml"])


@pytest.mark.functional
@pytest.mark.parametrize("case", ALL_CASES, ids=case_id)
def test_case_defines_in_libvirt(case, driver, host_lab):
    """Accepted XML passes the sandbox and libvirt's defineXML (the sandboxed copy, named and
    marked for this run, undefined at once)."""
    verdict = judge_xml(case, driver, lab=host_lab)
    assert passed_or_skip(verdict), verdict.reason
