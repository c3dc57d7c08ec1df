"""ReferenceDriver: request -> effective features -> domain XML, in Nova's check order.

Order of refusals (first one wins), as in Nova's server create path:
1. flavor extra specs (API, when they are set)           -> InvalidExtraSpec
2. image properties (``_get_image_meta_obj``)            -> InvalidImageProperty
3. ``numa_get_constraints``: page size, then locked mem  -> MemoryPageSize*, *LockedMemory*
4. ``_validate_flavor_image_nostatus``: PMU conflict     -> FlavorImageConflict
5. driver ``_get_guest_config``: RNG path, watchdog      -> RngDeviceNotExist, InvalidWatchdogAction
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import Request
from conformance.reference import (agent, base, hidden_hypervisor, locked_memory, page_size,
                                   pmu, rng, validation, watchdog)
from conformance.reference.features import Features
from conformance.reference.inputs import Inputs


def _inputs(request: Request, api_validation: bool) -> Inputs:
    if api_validation:
        validation.validate_extra_specs(request.flavor.extra_specs)
    return Inputs.of(request, validation.coerce_image_properties(request.image.properties))


def _resolve(inputs: Inputs) -> Features:
    page_size.check(inputs)
    locked = locked_memory.resolve(inputs)
    pmu_state = pmu.resolve(inputs)
    hide = hidden_hypervisor.resolve(inputs)
    agent_on = agent.resolve(inputs)
    rng_settings = rng.resolve(inputs)
    action = watchdog.resolve(inputs)
    return Features(agent=agent_on, watchdog_action=action, rng=rng_settings, pmu=pmu_state,
                    hide_hypervisor=hide, locked_memory=locked)


def resolve(request: Request, *, api_validation: bool = True) -> Features:
    """The effective feature settings for ``request``; raises Rejected like ``build``."""
    return _resolve(_inputs(request, api_validation))


class ReferenceDriver:
    """Nova-faithful reference driver.

    ``api_validation=False`` models flavors whose extra specs were stored before API
    microversion 2.86 (no extra-spec validation, so the driver-level leniency and
    InvalidWatchdogAction become reachable).
    """

    name = "reference"

    def __init__(self, *, api_validation: bool = True):
        self.api_validation = api_validation

    def build(self, request: Request) -> str:
        inputs = _inputs(request, self.api_validation)
        features = _resolve(inputs)
        dom = base.build(inputs)
        locked_memory.apply(dom, features.locked_memory, inputs)
        hidden_hypervisor.apply(dom, features.hide_hypervisor, inputs)
        pmu.apply(dom, features.pmu, inputs)
        agent.apply(dom, features.agent, inputs)
        rng.apply(dom, features.rng, inputs)
        watchdog.apply(dom, features.watchdog_action, inputs)
        base.add_memballoon(dom)
        return etree.tostring(dom, pretty_print=True, encoding="unicode")
