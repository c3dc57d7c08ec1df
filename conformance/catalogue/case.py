"""A conformance case: one flavor + image (+ virt type, host settings) to hand to a driver.

A lifecycle case (``operation`` other than ``create``) judges the domain a driver builds
*after* the operation: ``extra_specs``/``image_properties`` are the flavor and image the
instance has afterwards; ``old_extra_specs`` (resize) and ``old_image_properties``
(rebuild) are the flavor/image it had before. A migration (protocol 3) runs on ``host`` after it
and on ``source_host`` before it; its request carries the domain running on the source, here
the reference's create answer there (the live checks will use the running domain's).

The expected outcome is NOT stored here: the reference implementation computes it
(``conformance.catalogue.expected``). ``expect_rejection`` only documents the intent and
is cross-checked against the reference by the unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from conformance.contract import MIGRATIONS, Flavor, HostSettings, Image, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference.driver import ReferenceDriver, before_host

DEFAULT_VIRT_TYPE = "qemu"  # KVM guests hang on this host; a harness may choose kvm
RESIZED_FLAVOR = "m1.conformance.resized"  # the new flavor of a resize (the old one: Flavor())
REBUILT_IMAGE = "conformance-guest.rebuilt"  # the new image of a rebuild (the old one: Image())


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
    operation: str = "create"  # contract.OPERATIONS
    old_extra_specs: Mapping[str, str] | None = None  # resize: the flavor before
    old_image_properties: Mapping[str, str] | None = None  # rebuild: the image before
    since: str | None = None  # Nova release of the documented change the outcome rests on (notes.py)
    vcpus: int = 1  # the flavor's vCPUs (after the operation)
    old_vcpus: int | None = None  # resize: the old flavor's vCPUs (None: ``vcpus``)
    # upstream changes (conformance/reference/releases.py) on either side of which the
    # expected outcome differs: each release is judged on its own behaviour
    changes: tuple[str, ...] = ()
    source_host: Mapping[str, str] | None = None  # a migration's source: HostSettings overrides

    def __post_init__(self):
        for name in ("old_extra_specs", "old_image_properties", "source_host"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _frozen(getattr(self, name)))
        for name in ("extra_specs", "image_properties", "host"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        object.__setattr__(self, "changes", tuple(self.changes))

    @property
    def slug(self) -> str:
        """Readable, stable test id: ``<feature>-<name>-<uuid8>``."""
        return f"{self.feature}-{self.name}-{self.id[:8]}"

    @property
    def lifecycle(self) -> bool:
        """True for a case judged after a lifecycle operation (protocol 2)."""
        return self.operation != "create"

    def request(self, default_virt_type: str = DEFAULT_VIRT_TYPE) -> Request:
        """The driver request for this case (for a lifecycle case: the "after" request)."""
        resized, rebuilt = self.operation == "resize", self.operation == "rebuild"
        request = Request(
            virt_type=self.virt_type or default_virt_type,
            flavor=Flavor(name=RESIZED_FLAVOR if resized else Flavor.name, vcpus=self.vcpus,
                          extra_specs=dict(self.extra_specs)),
            image=Image(name=REBUILT_IMAGE if rebuilt else Image.name,
                        properties=dict(self.image_properties)),
            host=replace(HostSettings(), **dict(self.host)),
            operation="create" if self.operation in MIGRATIONS else self.operation,
            old_flavor=Flavor(vcpus=self.old_vcpus or self.vcpus,
                              extra_specs=dict(self.old_extra_specs or {})) if resized else None,
            old_image=Image(properties=dict(self.old_image_properties or {})) if rebuilt else None,
        )
        if self.operation not in MIGRATIONS:
            return request
        source = replace(HostSettings(), **dict(self.source_host or {}))
        try:  # the domain running on the source: its create answer there
            domain = ReferenceDriver().build(replace(request, host=source))
        except Rejected as exc:
            raise RequestInvalid(f"{self.slug}: the source host cannot run the instance ({exc})") from None
        return replace(request, operation=self.operation, source_host=source, source_domain=domain)

    def before_request(self, default_virt_type: str = DEFAULT_VIRT_TYPE) -> Request:
        """The create request of the instance before the operation (itself for create).

        The host is the case's with the default RNG device: a case's ``host`` describes the
        host at the time of the operation (e.g. an RNG device that has disappeared since the
        create); what it offers (machine type, dedicated CPUs, memory encryption) it offered
        at the create too.
        """
        after = self.request(default_virt_type)
        if not self.lifecycle:
            return after
        host = after.source_host if self.operation in MIGRATIONS else before_host(after.host)
        return replace(after, operation="create", old_flavor=None, old_image=None,
                       source_host=None, source_domain=None,
                       flavor=after.old_flavor or after.flavor, image=after.old_image or after.image,
                       host=host)

    def to_dict(self) -> dict:
        data = {"id": self.id, "feature": self.feature, "name": self.name,
                "description": self.description, "extra_specs": dict(self.extra_specs),
                "image_properties": dict(self.image_properties), "virt_type": self.virt_type,
                "host": dict(self.host), "expect_rejection": self.expect_rejection,
                "operation": self.operation, "vcpus": self.vcpus, "changes": list(self.changes)}
        for name in ("old_extra_specs", "old_image_properties", "source_host"):
            if getattr(self, name) is not None:
                data[name] = dict(getattr(self, name))
        if self.old_vcpus is not None:
            data["old_vcpus"] = self.old_vcpus
        return data
