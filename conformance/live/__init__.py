"""Live verification of features on a running guest (levels 2 and 3).

Level 2 ("host") looks at what QEMU actually received: QMP answers, the live domain
XML, ``/proc/<qemu pid>``. Level 3 ("guest") looks from inside the guest through the
guest agent. One module per feature; every check takes a guest object (the lab's
``Guest``: ``live_xml()``, ``pid``, ``qmp()``, ``agent()``, ``exec()``, ``events``,
waits) plus the *expected* setting of its feature, returns a small evidence dict on
success and raises :class:`LiveCheckFailed` (expected, actual, evidence) otherwise. A
probe that did not run or could not have seen the feature raises
:class:`~conformance.errors.GuestError` (no verdict); a check that can assert nothing for
this expectation raises :class:`NotApplicable`.
"""

from __future__ import annotations

from conformance.errors import HarnessError

HOST = "host"
GUEST = "guest"
LEVELS = (HOST, GUEST)


class LiveCheckFailed(HarnessError):
    """A running guest does not behave as its requested feature settings demand."""

    def __init__(self, feature: str, level: str, what: str, expected, actual,
                 evidence: dict | None = None):
        self.feature, self.level, self.what = feature, level, what
        self.expected, self.actual = expected, actual
        self.evidence = {"expected": expected, "actual": actual, **(evidence or {})}
        super().__init__(f"{feature} ({level}): {what}: expected {expected!r}, got {actual!r}")


class NotApplicable(HarnessError):
    """A check can assert nothing for this expectation here: the level is n/a, with ``reason``
    (neither a pass nor a failure). ``evidence``: what was verified before giving up."""

    def __init__(self, reason: str, evidence: dict | None = None):
        self.reason, self.evidence = reason, dict(evidence or {})
        super().__init__(reason)


def expect(ok: bool, feature: str, level: str, what: str, expected, actual, **evidence):
    """Raise :class:`LiveCheckFailed` unless ``ok``."""
    if not ok:
        raise LiveCheckFailed(feature, level, what, expected, actual, evidence)


def clip(text, limit: int = 400) -> str:
    """Shorten guest output for evidence (reports keep evidence small)."""
    text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."
