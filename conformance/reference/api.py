"""Nova's API-side checks of a flavor and an image, after the extra-spec and image property
validation, in each operation's order (docs/reference-semantics.md):

- ``numa_get_constraints`` (hardware.py): CPU policy and realtime mask, then "realtime needs
  pinning", page size, locked memory (and since 34.0.0, inside ``get_locked_memory_constraint``,
  the memory encryption constraint when memory is not explicitly locked);
- ``_validate_flavor_image_numa_pci`` (compute/api.py): memory encryption, vPMU, the realtime
  mask, then (resize and rebuild only) ``numa_get_constraints``.

Create runs ``numa_get_constraints`` first (api.py ``_validate_and_build_base_options``), resize
and rebuild only inside ``_validate_flavor_image_numa_pci``.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.reference import cpu_policy, locked_memory, mem_encryption, page_size, pmu
from conformance.reference.cpu_policy import CpuRequest
from conformance.reference.inputs import Inputs


@dataclass(frozen=True)
class Admitted:
    """What the API accepted: CPU request, page size, explicit locked memory, vPMU state and
    the memory encryption model asked for (None: none)."""
    cpus: CpuRequest
    pagesize: str | None
    locked: bool
    pmu: bool | None
    model: str | None

    @property
    def numa_key(self) -> tuple | None:
        return cpu_policy.numa_key(self.cpus, page_size.pagesize_of(self.pagesize))


def numa_constraints(inputs: Inputs) -> tuple[CpuRequest, str | None, bool]:
    """``numa_get_constraints``: (CPU request, page size, explicitly locked)."""
    cpus = cpu_policy.resolve(inputs)
    pages = page_size.check(inputs)
    locked = locked_memory.resolve(inputs)
    if not locked and inputs.has("sev-locked-constraint"):
        mem_encryption.constraint(inputs)
    return cpus, pages, locked


def admit(inputs: Inputs, operation: str) -> Admitted:
    """Every API-side check of ``operation`` (create, resize, rebuild) in Nova's order."""
    numa = numa_constraints(inputs) if operation == "create" else None
    model = mem_encryption.constraint(inputs)
    pmu_state = pmu.resolve(inputs)
    cpu_policy.realtime_vcpus(inputs)
    if numa is None:
        numa = numa_constraints(inputs)
    cpus, pages, locked = numa
    return Admitted(cpus, pages, locked, pmu_state, model)
