"""ReferenceDriver: request -> effective features -> domain XML, in Nova's check order.

The order of refusals (first one wins) depends on the operation (Nova sources in
docs/reference-semantics.md, "Order of checks" and "Lifecycle operations"):

=====  ==========================================  =======================================
step   create, reboot, stop_start                  resize (new flavor) / rebuild (new image)
=====  ==========================================  =======================================
1      flavor extra specs (API)                    the same, for the flavor the domain gets
2      image properties (``_get_image_meta_obj``)  the same, for the image the domain gets
3      ``numa_get_constraints``: CPU policy,       memory encryption, PMU conflict, realtime
       realtime, page size, locked memory (34:     mask, then ``numa_get_constraints``
       + memory encryption)
4      memory encryption, PMU conflict             rebuild only: ``_validate_numa_rebuild``
5      scheduler: ``NoValidHost``                  resize only: scheduler
6      driver ``_get_guest_config``: memory encryption against the machine type
       (InvalidMachineType), RNG path (RngDeviceNotExist), watchdog action
=====  ==========================================  =======================================

Reboot and stop/start run no API check and no scheduler in Nova: they regenerate the domain
from the same flavor and image (step 6 against the host now); the reference refuses a
request create would refuse with create's answer (such an instance cannot exist). Resize builds from the new flavor
and the old image, rebuild from the old flavor and the new image. The instance's state before
a resize/rebuild must be one Nova could have created on that host (else
:class:`~conformance.errors.RequestInvalid`). ``release`` picks the Nova release modelled
(``reference/releases.py``: a version string or a ``Model``; default the newest). The
operations of protocol 3 resolve through those of protocols 1 and 2 (``reference/operations.py``).
"""

from __future__ import annotations

from dataclasses import replace

from lxml import etree

from conformance.contract import PROTOCOL_3_OPERATIONS, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference import (agent, api, base, cpu_policy, cpu_tune, hidden_hypervisor,
                                   locked_memory, machine_type, mem_encryption, operations,
                                   page_size, pmu, rng, scheduling, validation, watchdog)
from conformance.reference.features import Features, Realtime
from conformance.reference.inputs import Inputs
from conformance.reference.operations import before_host
from conformance.reference.releases import Model, model as modelled


def _inputs(request: Request, api_validation: bool, release: Model) -> Inputs:
    if api_validation:
        validation.validate_extra_specs(request.flavor.extra_specs, release)
    props = validation.coerce_image_properties(request.image.properties, release)
    return Inputs.of(request, props, release)


def _before(request: Request) -> Request:
    """The create request of the instance as it was before a resize or rebuild."""
    host = before_host(request.host)
    if request.operation == "resize":
        return replace(request, operation="create", flavor=request.old_flavor, old_flavor=None,
                       host=host)
    return replace(request, operation="create", image=request.old_image, old_image=None, host=host)


def _admit_before(request: Request, api_validation: bool, release: Model) -> api.Admitted:
    """What the API admitted of the instance's current state; RequestInvalid if Nova could
    not have created it."""
    try:
        inputs = _inputs(_before(request), api_validation, release)
        admitted = api.admit(inputs, "create")
        scheduling.check(inputs, admitted.cpus, admitted.model)
    except Rejected as exc:
        raise RequestInvalid(f"{request.operation}: the instance's current flavor/image would "
                             f"have been refused at create ({exc})") from None
    return admitted


def _admit(request: Request, inputs: Inputs, api_validation: bool) -> api.Admitted:
    """Steps 3-5: the API checks and the scheduler of the request's operation."""
    op = request.operation
    if op in ("reboot", "stop_start"):
        # Nova runs no API check and no scheduler here; the instance exists, so create's
        # answers hold (a request create would refuse is refused the same way)
        admitted = api.admit(inputs, "create")
        scheduling.check(inputs, admitted.cpus, admitted.model)
        return admitted
    old = _admit_before(request, api_validation, inputs.release) if op != "create" else None
    admitted = api.admit(inputs, op)
    if op == "rebuild" and request.old_image != request.image and old.numa_key != admitted.numa_key:
        raise page_size.rebuild_conflict()
    if op in ("create", "resize"):
        scheduling.check(inputs, admitted.cpus, admitted.model)
    return admitted


def _compute(inputs: Inputs, admitted: api.Admitted) -> tuple[str, bool, str | None]:
    """Step 6, the memory encryption part: (machine type, locked, model in the domain).

    ``_get_guest_memory_backing_config`` locks a realtime guest, an explicit request and,
    since 34.0.0, a model that needs it (checked against the machine type, host offer or
    not); before, ``_get_mem_encryption_config`` locked any encrypted guest on a host
    offering memory encryption. ``_get_mem_encryption_config`` puts the model in the domain
    only on such a host."""
    machine = machine_type.resolve(inputs)
    offered = bool(inputs.host.mem_encryption_models)
    if inputs.has("sev-locked-constraint"):
        needs = (not admitted.locked
                 and mem_encryption.needs_locked(mem_encryption.constraint(inputs, machine)))
    else:
        needs = offered and bool(mem_encryption.constraint(inputs, machine))
    model = mem_encryption.constraint(inputs, machine) if offered else None
    machine_type.check_stateless_firmware(inputs)  # _configure_guest_by_virt_type
    return machine, bool(admitted.locked or admitted.cpus.realtime or needs), model


def _resolve(request: Request, api_validation: bool, release) -> tuple[Inputs, Features]:
    if request.operation in PROTOCOL_3_OPERATIONS:  # in terms of create, reboot, stop_start
        return operations.resolve(request, lambda plain: _resolve(plain, api_validation, release))
    inputs = _inputs(request, api_validation, modelled(release))
    admitted = _admit(request, inputs, api_validation)
    machine, locked, model = _compute(inputs, admitted)
    rng_settings = rng.resolve(inputs)  # then the RNG path, then the watchdog action
    action = watchdog.resolve(inputs)
    realtime = admitted.cpus.realtime
    return inputs, Features(
        agent=agent.resolve(inputs), watchdog_action=action, rng=rng_settings, pmu=admitted.pmu,
        hide_hypervisor=hidden_hypervisor.resolve(inputs), locked_memory=locked,
        machine_type=machine, pinning=cpu_policy.pinning(inputs, admitted.cpus),
        realtime=Realtime(realtime, cpu_policy.REALTIME_PRIORITY) if realtime else None,
        mem_encryption=model, virtio_iommu=bool(model) and not inputs.has("sev-no-iommu"))


def resolve(request: Request, *, api_validation: bool = True, release: str | Model | None = None) -> Features:
    """The effective feature settings for ``request``; raises Rejected like ``build``."""
    return _resolve(request, api_validation, release)[1]


class ReferenceDriver:
    """Nova-faithful reference driver (protocol 3: every lifecycle operation; those of
    protocol 3 in ``reference/operations.py``).

    ``api_validation=False`` models flavors whose extra specs were stored before API
    microversion 2.86 (no extra-spec validation, so the driver-level leniency and
    InvalidWatchdogAction become reachable); ``release`` a Nova release older than the
    newest (``reference/releases.py``).
    """

    name = "reference"
    protocol = 3

    def __init__(self, *, api_validation: bool = True, release: str | Model | None = None):
        self.api_validation = api_validation
        self.release = modelled(release)

    def build(self, request: Request) -> str:
        inputs, features = _resolve(request, self.api_validation, self.release)
        dom = base.build(inputs, features)
        locked_memory.apply(dom, features, inputs)
        cpu_tune.apply(dom, features)
        hidden_hypervisor.apply(dom, features.hide_hypervisor, inputs)
        pmu.apply(dom, features.pmu, inputs)
        agent.apply(dom, features.agent, inputs, features.virtio_iommu)
        rng.apply(dom, features.rng, inputs, features.virtio_iommu)
        watchdog.apply(dom, features.watchdog_action, inputs)
        base.add_memballoon(dom, features.virtio_iommu)
        mem_encryption.apply(dom, features.mem_encryption)
        return etree.tostring(dom, pretty_print=True, encoding="unicode")
