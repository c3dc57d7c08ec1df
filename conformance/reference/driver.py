"""ReferenceDriver: request -> effective features -> domain XML, in Nova's check order.

The order of refusals (first one wins) depends on the operation (Nova sources in
docs/reference-semantics.md, "Lifecycle operations"):

=====  ==========================================  =======================================
step   create, reboot, stop_start                  resize (new flavor) / rebuild (new image)
=====  ==========================================  =======================================
1      flavor extra specs (API)                    the same, for the flavor the domain gets
2      image properties (``_get_image_meta_obj``)  the same, for the image the domain gets
3      ``numa_get_constraints``: page size,        ``get_pmu_constraint``: FlavorImageConflict
       locked memory
4      PMU conflict                                page size, locked memory
5      -                                           rebuild only: ``_validate_numa_rebuild``
                                                   (ImageNUMATopologyRebuildConflict)
6      driver ``_get_guest_config``: RNG path (RngDeviceNotExist), watchdog action
=====  ==========================================  =======================================

Reboot and stop/start regenerate the domain from the same flavor and image (create's
checks and features); resize builds from the new flavor and the old image, rebuild from
the old flavor and the new image. The instance's state before a resize/rebuild must be
one Nova could have created (else :class:`~conformance.errors.RequestInvalid`).
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from conformance.contract import HostSettings, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference import (agent, base, hidden_hypervisor, locked_memory, page_size,
                                   pmu, rng, validation, watchdog)
from conformance.reference.features import Features
from conformance.reference.inputs import Inputs

PMU_FIRST = ("resize", "rebuild")  # _validate_flavor_image_numa_pci order


def _inputs(request: Request, api_validation: bool) -> Inputs:
    if api_validation:
        validation.validate_extra_specs(request.flavor.extra_specs)
    return Inputs.of(request, validation.coerce_image_properties(request.image.properties))


def _before(request: Request) -> Request:
    """The create request of the instance as it was before a resize or rebuild."""
    if request.operation == "resize":
        return replace(request, operation="create", flavor=request.old_flavor, old_flavor=None,
                       host=HostSettings())
    return replace(request, operation="create", image=request.old_image, old_image=None,
                   host=HostSettings())


def _check_before(request: Request, api_validation: bool) -> Inputs:
    """Inputs of the instance's current state; RequestInvalid if Nova could not have created it."""
    try:
        inputs = _inputs(_before(request), api_validation)
        _checks(inputs, pmu_first=False)
    except Rejected as exc:
        raise RequestInvalid(f"{request.operation}: the instance's current flavor/image would "
                             f"have been refused at create ({exc})") from None
    return inputs


def _checks(inputs: Inputs, *, pmu_first: bool) -> tuple[bool | None, str | None, bool]:
    """API-side flavor/image checks: (pmu, page size, locked memory) in the operation's order."""
    if pmu_first:
        pmu_state = pmu.resolve(inputs)
    pages = page_size.check(inputs)
    locked = locked_memory.resolve(inputs)
    if not pmu_first:
        pmu_state = pmu.resolve(inputs)
    return pmu_state, pages, locked


def _resolve(request: Request, api_validation: bool) -> tuple[Inputs, Features]:
    old_inputs = None
    if request.operation in PMU_FIRST:
        old_inputs = _check_before(request, api_validation)
    inputs = _inputs(request, api_validation)
    pmu_state, _, locked = _checks(inputs, pmu_first=request.operation in PMU_FIRST)
    if request.operation == "rebuild" and request.old_image != request.image:
        page_size.check_rebuild(old_inputs, inputs)
    rng_settings = rng.resolve(inputs)  # driver-level checks: RNG path, then watchdog action
    action = watchdog.resolve(inputs)
    return inputs, Features(agent=agent.resolve(inputs), watchdog_action=action, rng=rng_settings,
                            pmu=pmu_state, hide_hypervisor=hidden_hypervisor.resolve(inputs),
                            locked_memory=locked)


def resolve(request: Request, *, api_validation: bool = True) -> Features:
    """The effective feature settings for ``request``; raises Rejected like ``build``."""
    return _resolve(request, api_validation)[1]


class ReferenceDriver:
    """Nova-faithful reference driver (protocol 2: every lifecycle operation).

    ``api_validation=False`` models flavors whose extra specs were stored before API
    microversion 2.86 (no extra-spec validation, so the driver-level leniency and
    InvalidWatchdogAction become reachable).
    """

    name = "reference"
    protocol = 2

    def __init__(self, *, api_validation: bool = True):
        self.api_validation = api_validation

    def build(self, request: Request) -> str:
        inputs, features = _resolve(request, self.api_validation)
        dom = base.build(inputs)
        locked_memory.apply(dom, features.locked_memory, inputs)
        hidden_hypervisor.apply(dom, features.hide_hypervisor, inputs)
        pmu.apply(dom, features.pmu, inputs)
        agent.apply(dom, features.agent, inputs)
        rng.apply(dom, features.rng, inputs)
        watchdog.apply(dom, features.watchdog_action, inputs)
        base.add_memballoon(dom)
        return etree.tostring(dom, pretty_print=True, encoding="unicode")
