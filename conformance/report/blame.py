"""Who a check's outcome blames: one rule for every path (create, lifecycle, level 1).

``fail`` (the driver's failure), wherever it happens (while a fixture boots the guest, in
the test, on create or after a lifecycle operation):
  a check found the driver wrong (``LiveCheckFailed``, an assertion); the driver's XML was
  refused by the sandbox (``SandboxViolation``: the rule) or by libvirt (``DomainRefused``:
  libvirt's message; the level-1 ``defineXML`` check reports it as the finding
  ``libvirt.define``); the driver misbehaved building the domain to boot (``DriverFault``)
  or changed its answer (``AnswerChanged``).
``skip``: a host limit (``HostCapabilityMissing``, a skip naming what is missing).
``n/a``: the check can assert nothing for this expectation (``NotApplicable``).
``error`` (no verdict on the driver): everything else: the host or its daemon gone
  (``HostUnreachable``), a guest that did not start, boot or answer (``GuestError``,
  ``WaitTimeout``), the host's shell or storage failing, a harness fault (any other
  exception; ``fixtures.plugin`` also counts pytest-timeout's deadline here).
No pytest here; ``fixtures.plugin`` applies it to each item's report.
"""

from __future__ import annotations

from conformance.errors import AnswerChanged, DomainRefused, DriverFault, HostCapabilityMissing


def _driver_failures() -> tuple[type, ...]:
    from conformance.lab.sandbox import SandboxViolation
    from conformance.live import LiveCheckFailed
    return (AssertionError, LiveCheckFailed, SandboxViolation, DomainRefused, DriverFault,
            AnswerChanged)


def status_of(exc: BaseException) -> str:
    """``fail``, ``skip``, ``n/a`` or ``error`` for a check that raised ``exc``."""
    from conformance.live import NotApplicable
    if isinstance(exc, NotApplicable):
        return "n/a"
    if isinstance(exc, HostCapabilityMissing):
        return "skip"
    if isinstance(exc, _driver_failures()):
        return "fail"
    return "error"


def refusal(exc: BaseException) -> dict | None:
    """Evidence of a refused driver XML: who refused it (``sandbox`` with its ``rule``, or
    ``libvirt``) and the message; None for any other exception."""
    from conformance.lab.sandbox import SandboxViolation
    if isinstance(exc, SandboxViolation):
        return {"refused_by": "sandbox", "rule": exc.rule, "message": str(exc)}
    if isinstance(exc, DomainRefused):
        return {"refused_by": "libvirt", "message": str(exc)}
    return None


__all__ = ["status_of", "refusal"]
