"""Level 1 (xml) judging of one catalogue case for one driver.

The reference decides the expected outcome. Rejections must carry the same code;
accepted XML must pass every feature's XML check, libvirt's RelaxNG schema and, when a
lab is given, ``defineXML`` on its libvirt host (the sandboxed copy, named and marked for
the lab's run, undefined at once). The sandbox always judges accepted XML, with or without
a lab, and its refusal is the case's reason (naming the rule), whatever else was found.
A lifecycle case judges the domain after the operation; a driver that speaks protocol 1
is certified on create only, so its lifecycle cases are skipped (outcome ``skip``).
"""

from __future__ import annotations

import time

from conformance.catalogue import DEFAULT_VIRT_TYPE, Case
from conformance.catalogue.expected import Expected, expected_outcome, expected_release
from conformance.checks import check_xml
from conformance.checks.define import (DEFINE_NOT_APPLICABLE, check_define, check_encrypted,
                                       check_sandbox, never_defined)
from conformance.checks.finding import Finding
from conformance.checks.lifecycle import check_identity
from conformance.checks.schema import check_schema
from conformance.contract import Accepted, Driver, Rejection, driver_protocol
from conformance.drivers import run_driver
from conformance.drivers.output import parse_domain
from conformance.errors import DriverFault
from conformance.verdict import Verdict


def observed(outcome) -> str:
    """Short form of what a driver did: ``accepted`` or ``rejected:<Code>``."""
    return "accepted" if isinstance(outcome, Accepted) else f"rejected:{outcome.code}"


def _compare(case: Case, expected: Expected, outcome, request, lab) -> tuple[str, list[Finding]]:
    if not expected.accepted:
        want = expected.rejection
        if isinstance(outcome, Rejection):
            if outcome.code == want.code:
                return "", []
            return (f"expected rejection {want.code} ({want.message}); driver rejected with "
                    f"{outcome.code}: {outcome.message}"), []
        return (f"expected rejection {want.code} ({want.message}); driver accepted the request"), []
    if isinstance(outcome, Rejection):
        return f"expected acceptance; driver rejected with {outcome.code}: {outcome.message}", []
    dom = parse_domain(outcome.xml)
    encrypted = never_defined(expected, request)  # UEFI firmware, launch security
    findings = check_xml(expected.features, dom, request) + check_identity(dom, request) \
        + check_schema(schema_view(dom) if encrypted else dom)
    if encrypted:  # never defined (DEFINE_NOT_APPLICABLE)
        defined = check_encrypted(outcome.xml, request)
    else:
        defined = (check_define(lab, outcome.xml, request) if lab is not None
                   else check_sandbox(outcome.xml, request))
    refused = [f for f in defined if f.check.startswith("sandbox.")]
    if refused:  # the sandbox's refusal is the reason, whatever the feature checks say
        return refused[0].actual, refused + findings
    findings += defined
    if findings:
        return "XML does not express the expected features:\n  " + "\n  ".join(map(str, findings)), findings
    return "", []


def schema_view(dom):
    """An encrypted domain for libvirt's schema: without firmware and launch security (this
    host's libvirt may predate their forms, e.g. ``sev-snp``: the checks and the sandbox's
    allow list judge them), or as it is when they break that allow list."""
    from conformance.errors import SandboxViolation
    from conformance.lab.encrypted import split
    try:
        return split(dom)
    except SandboxViolation:
        return dom


def judge_xml(case: Case, driver: Driver, *, virt_type: str = DEFAULT_VIRT_TYPE, lab=None) -> Verdict:
    """Run ``case`` through ``driver`` and judge the result at level 1 (``lab``: also define
    the sandboxed XML on its libvirt host)."""
    start = time.monotonic()
    verdict = Verdict(case.id, case.feature, case.name, getattr(driver, "name", repr(driver)))
    request = case.request(virt_type)
    verdict.evidence["operation"] = case.operation
    if request.protocol > driver_protocol(driver):
        verdict.outcome = "skip"
        verdict.reason = (f"{case.id} {case.feature}/{case.name}: {case.operation} needs protocol "
                          f"{request.protocol}; the driver speaks protocol {driver_protocol(driver)} "
                          + ("(certified on create only)" if driver_protocol(driver) < 2
                             else "(certified on create and the operations of protocol 2)"))
        return verdict
    release = expected_release(driver)
    try:
        expected = expected_outcome(request, release)
    except Exception as exc:  # noqa: BLE001 - the reference itself failed: a harness error
        verdict.outcome, verdict.reason = "error", f"{case.id} {case.feature}/{case.name}: reference " \
            f"failed: {type(exc).__name__}: {exc}"
        verdict.duration = time.monotonic() - start
        return verdict
    verdict.evidence["expected"] = ("accepted" if expected.accepted
                                    else f"rejected:{expected.rejection.code}")
    if release:
        verdict.evidence["nova_release"] = release  # judged on that release's behaviour
    if expected.accepted and never_defined(expected, request):
        verdict.evidence["define"] = DEFINE_NOT_APPLICABLE
    try:
        outcome = run_driver(driver, request)
        verdict.evidence["observed"] = observed(outcome)
        if isinstance(outcome, Accepted):
            verdict.evidence["xml"] = outcome.xml
        problem, findings = _compare(case, expected, outcome, request, lab)
    except DriverFault as exc:
        verdict.evidence["observed"] = f"fault:{exc.kind}"
        problem, findings = str(exc), []
    verdict.evidence["findings"] = [f.to_dict() for f in findings]
    verdict.outcome = "fail" if problem else "pass"
    verdict.reason = f"{case.id} {case.feature}/{case.name}: {problem}" if problem else ""
    verdict.duration = time.monotonic() - start
    return verdict
