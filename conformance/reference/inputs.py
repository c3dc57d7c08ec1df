"""The parts of a request the feature modules read, after Nova's API-level coercion."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from conformance.contract import HostSettings, Request
from conformance.reference.releases import Model


@dataclass(frozen=True)
class Inputs:
    """Flavor extra specs (raw strings) and image properties (coerced like ImageMetaProps)."""
    request: Request
    image_props: Mapping[str, Any]
    release: Model = Model()  # the Nova behaviour modelled (reference/releases.py)

    def has(self, change: str) -> bool:
        """Does the modelled release include upstream change ``change``?"""
        return self.release.has(change)

    @property
    def host(self) -> HostSettings:
        return self.request.host

    @property
    def extra_specs(self) -> Mapping[str, str]:
        return self.request.flavor.extra_specs

    @property
    def flavor_name(self) -> str:
        return self.request.flavor.name

    @property
    def image_name(self) -> str:
        return self.request.image.name

    @property
    def qemu_or_kvm(self) -> bool:
        """Nova's ``CONF.libvirt.virt_type in ('qemu', 'kvm')`` (always true for protocol 1)."""
        return self.request.virt_type in ("qemu", "kvm")

    @classmethod
    def of(cls, request: Request, image_props: Mapping[str, Any], release: Model = Model()) -> "Inputs":
        return cls(request, MappingProxyType(dict(image_props)), release)
