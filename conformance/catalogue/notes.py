"""The documentation's version notes (docs.openstack.org "Other libvirt features", the
"Changed in version" / "New in version" boxes) that catalogue cases depend on.

A case whose expected outcome rests on one of these changes carries ``since=VERSION``
(:class:`conformance.catalogue.case.Case`). A Nova release older than ``since`` is expected
to fail it; one at or after ``since`` is expected to pass. ``before`` turns a case's flavor
and image (for a lifecycle case: those after the operation) into what the release before the
change would have seen (used by the unit test that proves each ``since`` is set exactly
where the outcome depends on the change).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

Specs = dict[str, str]


@dataclass(frozen=True)
class Note:
    feature: str
    since: str
    text: str
    before: Callable[[Specs, Specs], tuple[Specs, Specs]]  # (extra_specs, image) -> as before


def _drop(*keys: str):
    def before(specs: Specs, image: Specs) -> tuple[Specs, Specs]:
        return ({k: v for k, v in specs.items() if k not in keys},
                {k: v for k, v in image.items() if k not in keys})
    return before


def _rng_off(specs: Specs, image: Specs) -> tuple[Specs, Specs]:
    return dict(specs, **{"hw_rng:allowed": "false"}), image


def _disabled_invalid(specs: Specs, image: Specs) -> tuple[Specs, Specs]:
    keys = ("hw:watchdog_action", "hw_watchdog_action")
    return ({k: "explode" if k in keys and v == "disabled" else v for k, v in specs.items()},
            {k: "explode" if k in keys and v == "disabled" else v for k, v in image.items()})


NOTES = (
    Note("watchdog", "15.0.0", "15.0.0 (Ocata): add support for the disabled option", _disabled_invalid),
    Note("pmu", "20.0.0", "20.0.0 (Train): hw:pmu / hw_pmu enable or disable the vPMU",
         _drop("hw:pmu", "hw_pmu")),
    Note("rng", "21.0.0", "21.0.0 (Ussuri): random number generators are now enabled by default "
         "(hw_rng:allowed defaults to true)", _rng_off),
    Note("hidden_hypervisor", "21.0.0", "21.0.0 (Ussuri): hw:hide_hypervisor_id; prior to Ussuri "
         "this was called hide_hypervisor_id (kept as an alias)", _drop("hw:hide_hypervisor_id")),
    Note("locked_memory", "26.0.0", "26.0.0 (Zed): hw:locked_memory / hw_locked_memory",
         _drop("hw:locked_memory", "hw_locked_memory")),
)


def note_for(feature: str, since: str) -> Note:
    for note in NOTES:
        if note.feature == feature and note.since == since:
            return note
    raise KeyError(f"no version note for {feature} since {since}")


def release_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def expected_to_pass(since: str | None, release: str) -> bool:
    """Does the documentation promise this behaviour in ``release``?"""
    return since is None or release_tuple(release) >= release_tuple(since)
