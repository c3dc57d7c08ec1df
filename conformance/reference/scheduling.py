"""Does the host offer what the instance needs? (Nova's scheduler and placement, one host.)

Nova: scheduler/utils.py ``ResourceRequest`` turns the flavor and image into resources and
traits (``_translate_pinning_policies``: ``PCPU`` = vCPUs for a dedicated instance, ``VCPU``
otherwise; ``_translate_mem_encryption_request``: ``MEM_ENCRYPTION_CONTEXT`` and the model's
``HW_CPU_X86_AMD_SEV*`` trait); driver.py ``_get_vcpu_available`` reports no ``VCPU`` on a
host with ``cpu_dedicated_set`` and no ``cpu_shared_set``. A host that cannot offer them is
no valid host: the instance goes to ERROR with ``NoValidHost``. Runs on create and resize
(placement claims); a rebuild does not claim resources again.
"""

from __future__ import annotations

from conformance.contract import Rejected
from conformance.reference import machine_type
from conformance.reference.cpu_policy import CpuRequest, parse_cpu_spec
from conformance.reference.inputs import Inputs

MESSAGE = "No valid host was found. There are not enough hosts available."


def check(inputs: Inputs, cpus: CpuRequest, model: str | None) -> None:
    machine_type.check_stateless_firmware(inputs)  # ResourceRequest, before 34.0.0
    dedicated = parse_cpu_spec(inputs.host.cpu_dedicated_set) if inputs.host.cpu_dedicated_set else set()
    vcpus = inputs.request.flavor.vcpus
    if cpus.policy == "dedicated":
        room = len(dedicated) >= vcpus
    else:  # shared or unset: VCPU; mixed: VCPU and PCPU (never both on these hosts)
        room = not dedicated and cpus.policy != "mixed"
    if not room or (model and model not in inputs.host.mem_encryption_models):
        raise Rejected("NoValidHost", MESSAGE)
