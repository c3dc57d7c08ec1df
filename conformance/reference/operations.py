"""The operations of protocol 3, as Nova's compute host performs them (sources and line
numbers in docs/reference-semantics.md, "Protocol 3 operations").

Each operation is one of four kinds, by where the domain after it comes from:

- the existing domain, unchanged (``suspend_resume``: ``resume`` restores the saved domain,
  ``_get_existing_domain_xml``; ``pause_unpause``: no redefinition; ``soft_reboot``:
  ``_soft_reboot`` relaunches the same domain after the ACPI shutdown). The answer is the
  create answer on the host as it was at the create (:func:`before_host`):
  a host that lost its RNG device since does not change it;
- regenerated on the same host (``clean_stop_start``: ``power_off`` with a timeout asks the
  guest first, ``_clean_shutdown``, then ``power_on`` is ``_hard_reboot``): as ``stop_start``;
- scheduled and spawned on ``host`` (``shelve_unshelve``: the conductor schedules, then
  ``spawn``; ``evacuate``: ``rebuild_instance`` with the same image on another host;
  ``cold_migrate``: ``finish_migration`` -> ``_get_guest_xml`` on the destination): as a hard
  reboot on that host (create's answers, the scheduler, the driver's RNG path and watchdog
  checks against it), with the machine type the instance got at its create (Nova records it
  in the instance's system metadata, ``_configure_guest_by_virt_type``);
- ``live_migrate``: the source's domain moves (``migration.get_updated_guest_xml``): what
  the create on ``source_host`` gave, with the destination's CPU pinning
  (``_update_numa_xml``); the destination must offer what the instance needs (the scheduler:
  ``NoValidHost``); the RNG backend, machine type and the rest stay the source's.

A migration whose instance could not have been created on ``source_host`` is
:class:`~conformance.errors.RequestInvalid` (a harness input error), as for resize/rebuild.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from conformance.contract import HostSettings, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference import api, cpu_policy, scheduling
from conformance.reference.features import Features
from conformance.reference.inputs import Inputs

EXISTING = ("suspend_resume", "pause_unpause", "soft_reboot")
REGENERATED = ("clean_stop_start",)
RESPAWNED = ("shelve_unshelve", "evacuate", "cold_migrate")
MOVED = ("live_migrate",)

Resolver = Callable[[Request], "tuple[Inputs, Features]"]


def before_host(host: HostSettings) -> HostSettings:
    """The host when the instance was created: the same, but with the default RNG device (a
    lifecycle case's host may have lost it since)."""
    return replace(host, rng_dev_path=HostSettings().rng_dev_path)


def _plain(request: Request, operation: str, host: HostSettings) -> Request:
    return replace(request, operation=operation, host=host, source_host=None, source_domain=None)


def equivalent(request: Request) -> Request:
    """The protocol-1/2 request whose domain is this operation's domain (not for
    ``live_migrate``, which has none)."""
    op = request.operation
    if op in EXISTING:
        return _plain(request, "create", before_host(request.host))
    if op in REGENERATED:
        return _plain(request, "stop_start", request.host)
    if op == "cold_migrate":  # the machine type recorded at the create stays the instance's
        host = replace(request.host, hw_machine_type=request.source_host.hw_machine_type)
        return _plain(request, "reboot", host)
    if op in RESPAWNED:
        return _plain(request, "reboot", request.host)
    raise ValueError(f"{op}: no equivalent request")


def _on_source(request: Request, resolve: Resolver) -> tuple[Inputs, Features]:
    """What the instance got at its create on the migration's source host."""
    try:
        return resolve(_plain(request, "create", request.source_host))
    except Rejected as exc:
        raise RequestInvalid(f"{request.operation}: the instance could not have been created on "
                             f"the source host ({exc})") from None


def _live_migrated(request: Request, resolve: Resolver) -> tuple[Inputs, Features]:
    inputs, features = _on_source(request, resolve)
    there = replace(inputs, request=replace(inputs.request, host=request.host))
    admitted = api.admit(there, "create")
    scheduling.check(there, admitted.cpus, admitted.model)  # the destination must fit it
    return inputs, replace(features, pinning=cpu_policy.pinning(there, admitted.cpus))


def resolve(request: Request, resolve_plain: Resolver) -> tuple[Inputs, Features]:
    """(inputs, features) of the domain after protocol-3 ``request``; ``resolve_plain``
    resolves a protocol-1/2 request (the reference driver's own ``_resolve``)."""
    if request.operation in MOVED:
        return _live_migrated(request, resolve_plain)
    if request.operation == "cold_migrate":
        _on_source(request, resolve_plain)
    return resolve_plain(equivalent(request))
