"""The Nova releases the reference models, and the upstream changes between them that alter
what a driver must answer (docs/reference-semantics.md, "Releases").

The reference models Nova 34.0.0 (:data:`NEWEST`) by default; ``ReferenceDriver(release=R)``
and ``resolve(request, release=R)`` model the release ``R`` by undoing every change of
:data:`CHANGES` newer than ``R``. A catalogue case whose outcome differs on either side of a
change names it in ``Case.changes`` (enforced by tests/unit/test_catalogue_releases.py), so
certifying ``nova==33.0.2`` expects 33.0.2's own behaviour and ``conformance matrix`` shows
where releases differ, each difference with its upstream change.
"""

from __future__ import annotations

from dataclasses import dataclass

NEWEST = "34.0.0"  # openstack/nova 34.0.0 (2026.2), PyPI; master at 00a030403f agrees here


@dataclass(frozen=True)
class Change:
    """One upstream change: first release that has it, the commits, what it changes."""
    name: str
    release: str
    commits: tuple[str, ...]
    text: str


CHANGES = (
    Change("sev-es-model", "32.0.0", ("4f5a3f3c002d10e03d77dd379228aedc21a14d0b", "dc6641baad"),
           "hw:mem_encryption_model / hw_mem_encryption_model (amd-sev, amd-sev-es) exist; "
           "before, the flavor key is an unknown hw: extra spec and the image key is ignored"),
    Change("sev-snp", "34.0.0", ("6884abb139003a6cf6824b95cf69614c299ec8e8",),
           "memory encryption model amd-sev-snp (needs hw_firmware_stateless): SNP guests get "
           "no <locked/>; before, amd-sev-snp is not a valid model"),
    Change("sev-no-iommu", "34.0.0", ("a29524346f671a113cba2a1c242d539c78925f09",),
           "memory-encrypted guests: no explicit virtio-serial controller for the guest agent "
           "and no <driver iommu='on'/> on virtio devices (RNG, balloon); QEMU >= 6.2 enables "
           "the platform IOMMU itself"),
    Change("stateless-bios", "34.0.0", ("b9ccaf93e2",),
           "hw_firmware_stateless=true with BIOS firmware is ignored (a warning); before, Nova "
           "refuses it with a plain Invalid (HTTP 400) when scheduling and building the guest"),
    Change("sev-locked-constraint", "34.0.0", ("a04c92378d1749120fcd779ff87368922acff03f",),
           "get_locked_memory_constraint asks the memory encryption model whether it needs "
           "locked memory (the driver's separate SEV branch is gone): a memory encryption "
           "request locks memory whether or not the host offers it"),
)
BY_NAME = {change.name: change for change in CHANGES}


def release_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def has(release: str, name: str) -> bool:
    """Does Nova ``release`` include change ``name``?"""
    return release_tuple(release) >= release_tuple(BY_NAME[name].release)


@dataclass(frozen=True)
class Model:
    """The Nova behaviour the reference models: a release, minus the changes in ``without``
    (to attribute an outcome to one change of a release that brought several)."""
    version: str = NEWEST
    without: frozenset[str] = frozenset()

    def has(self, name: str) -> bool:
        return name not in self.without and has(self.version, name)


def model(release: "str | Model | None") -> Model:
    """``release`` as a :class:`Model` (None: the newest)."""
    if isinstance(release, Model):
        return release
    return Model(release or NEWEST)


def before(name: str) -> str:
    """A release just before change ``name`` (the last patch of the previous major)."""
    major = release_tuple(BY_NAME[name].release)[0]
    return f"{major - 1}.99.0"
