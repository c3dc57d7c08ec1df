"""A conformance case: one flavor + image (+ virt type, host settings) to hand to a driver.

The expected outcome is NOT stored here: the reference implementation computes it
(``conformance.catalogue.expected``). ``expect_rejection`` only documents the intent and
is cross-checked against the reference by the unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from conformance.contract import Flavor, HostSettings, Image, Request

DEFAULT_VIRT_TYPE = "qemu"  # KVM guests hang on this host; a harness may choose kvm


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Case:
    """One catalogue entry, identified forever by ``id`` (a uuid literal)."""
    id: str
    feature: str
    name: str
    description: str
    extra_specs: Mapping[str, str] = field(default_factory=dict)
    image_properties: Mapping[str, str] = field(default_factory=dict)
    virt_type: str | None = None  # None: the harness default
    host: Mapping[str, str] = field(default_factory=dict)  # HostSettings overrides
    expect_rejection: str | None = None  # documentation only; the reference decides
    since: str | None = None  # Nova release of the documented change the outcome rests on (notes.py)

    def __post_init__(self):
        for name in ("extra_specs", "image_properties", "host"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    @property
    def slug(self) -> str:
        """Readable, stable test id: ``<feature>-<name>-<uuid8>``."""
        return f"{self.feature}-{self.name}-{self.id[:8]}"

    def request(self, default_virt_type: str = DEFAULT_VIRT_TYPE) -> Request:
        """The driver request for this case."""
        return Request(
            virt_type=self.virt_type or default_virt_type,
            flavor=Flavor(extra_specs=dict(self.extra_specs)),
            image=Image(properties=dict(self.image_properties)),
            host=replace(HostSettings(), **dict(self.host)),
        )

    def to_dict(self) -> dict:
        return {"id": self.id, "feature": self.feature, "name": self.name,
                "description": self.description, "extra_specs": dict(self.extra_specs),
                "image_properties": dict(self.image_properties), "virt_type": self.virt_type,
                "host": dict(self.host), "expect_rejection": self.expect_rejection}
