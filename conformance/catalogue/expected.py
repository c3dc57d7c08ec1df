"""The expected outcome of a case, computed by the reference implementation."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract import Rejected, Rejection, Request
from conformance.reference import Features, ReferenceDriver, resolve


@dataclass(frozen=True)
class Expected:
    """Either the effective features (accepted) or the reference's rejection."""
    features: Features | None = None
    rejection: Rejection | None = None
    xml: str | None = None  # the reference's own domain XML, for evidence

    @property
    def accepted(self) -> bool:
        return self.rejection is None


def expected_release(driver) -> str | None:
    """The Nova release whose behaviour ``driver`` is judged on: its ``nova_release``
    attribute (upstream Nova drivers set their version), else None (the newest)."""
    return getattr(driver, "nova_release", None)


def expected_outcome(request: Request, release=None) -> Expected:
    """Ask the reference what a conforming driver must do with ``request`` (as Nova
    ``release`` does: a version or a ``releases.Model``; None: the newest)."""
    try:
        features = resolve(request, release=release)
        xml = ReferenceDriver(release=release).build(request)
    except Rejected as exc:
        return Expected(rejection=exc.rejection)
    return Expected(features=features, xml=xml)
