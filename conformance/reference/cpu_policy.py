"""CPU pinning and realtime vCPUs (flavor ``hw:cpu_policy``, ``hw:cpu_realtime``,
``hw:cpu_realtime_mask``; image ``hw_cpu_policy``, ``hw_cpu_realtime_mask``).

Nova: hardware.py ``get_cpu_policy_constraint``, ``get_realtime_cpu_constraint``,
``is_realtime_enabled`` and the sanity checks of ``numa_get_constraints`` (the same in
32.2.1, 33.0.2 and 34.0.0). Not modelled: ``hw:emulator_threads_policy``,
``hw:cpu_thread_policy``, ``hw:cpu_dedicated_mask`` (a mixed instance needs shared and
dedicated host CPUs, which the host settings never offer together: ``NoValidHost``).
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.contract import Rejected
from conformance.reference.inputs import Inputs
from conformance.reference.strutils import bool_from_string

POLICIES = ("dedicated", "shared", "mixed")  # fields.CPUAllocationPolicy.ALL
PINNED = ("dedicated", "mixed")
REALTIME_PRIORITY = 1  # CONF.libvirt.realtime_scheduler_priority default
MASK_MESSAGE = ("Use of realtime CPUs requires either one or more non-realtime CPU(s) or "
                "offloaded emulator threads.")
SUBSET_MESSAGE = ("Realtime policy vCPU(s) mask is configured with RT vCPUs that are not a "
                  "subset of the vCPUs in the flavor. See hw:cpu_realtime_mask or "
                  "hw_cpu_realtime_mask")


@dataclass(frozen=True)
class CpuRequest:
    """The instance's CPU policy (None: unset) and its realtime vCPUs (None: not realtime)."""
    policy: str | None
    realtime: frozenset[int] | None


def parse_cpu_spec(spec: str, source: str = "InvalidExtraSpec") -> set[int]:
    """hardware.py ``parse_cpu_spec``: "1-4,^3,6" -> {1, 2, 4, 6}. Nova refuses a malformed
    spec with a plain ``Invalid`` (HTTP 400, no contract name): the reference names it
    ``source`` (InvalidImageProperty for an image mask, else InvalidExtraSpec: a flavor mask
    the API did not validate), docs/nova-differences.md D3."""
    include, exclude = set(), set()
    for rule in (part.strip() for part in spec.split(",")):
        if not rule:
            continue
        try:
            if "-" in rule:
                start, end = rule.split("-", 1)
                target = exclude if start.startswith("^") else include
                first, last = int(start.lstrip("^").strip()), int(end.strip())
                if first > last:
                    raise ValueError(rule)
                target.update(range(first, last + 1))
            elif rule.startswith("^"):
                exclude.add(int(rule[1:].strip()))
            else:
                include.add(int(rule))
        except ValueError:
            raise Rejected(source, f"Invalid inclusion expression {rule!r}") from None
    return include - exclude


def format_cpu_spec(cpus) -> str:
    """hardware.py ``format_cpu_spec`` with ranges: {0, 1, 2, 5} -> "0-2,5"."""
    parts, run = [], []
    for cpu in sorted(cpus):
        if run and cpu != run[-1] + 1:
            parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run = []
        run.append(cpu)
    if run:
        parts.append(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}")
    return ",".join(parts)


def _policy(inputs: Inputs) -> str | None:
    """``get_cpu_policy_constraint``: the flavor's policy wins; the image may only choose when
    the flavor leaves it unset (or confirm ``shared``)."""
    flavor = inputs.extra_specs.get("hw:cpu_policy")
    image = inputs.image_props.get("hw_cpu_policy")
    if flavor and flavor not in POLICIES:  # only without API validation (D3)
        raise Rejected("InvalidExtraSpec", f"CPU policy {flavor!r} is not one of "
                       f"{', '.join(POLICIES)}")
    forbidden = {"mixed": ("dedicated",), "shared": ("mixed", "dedicated")}
    if flavor and image in forbidden.get(flavor, ()):
        raise Rejected("ImageCPUPinningForbidden", "Image property 'hw_cpu_policy' is not "
                       "permitted to override CPU pinning policy set against the flavor")
    return flavor or image or None


def realtime_vcpus(inputs: Inputs) -> frozenset[int] | None:
    """``get_realtime_cpu_constraint``: the realtime vCPUs (the image mask before the
    flavor's; none: every vCPU), or None when ``hw:cpu_realtime`` is not true."""
    if not bool_from_string(inputs.extra_specs.get("hw:cpu_realtime")):
        return None
    vcpus = set(range(inputs.request.flavor.vcpus))
    image_mask = inputs.image_props.get("hw_cpu_realtime_mask")
    mask = image_mask or inputs.extra_specs.get("hw:cpu_realtime_mask")
    if mask:
        text = mask.strip()
        chosen = parse_cpu_spec(f"0-{len(vcpus) - 1},{mask}" if text.startswith("^") else mask,
                                "InvalidImageProperty" if image_mask else "InvalidExtraSpec")
    else:
        chosen = set(vcpus)
    if not chosen or chosen == vcpus:  # no emulator threads policy (not modelled)
        raise Rejected("RealtimeMaskNotFoundOrInvalid", MASK_MESSAGE)
    if not chosen <= vcpus:
        raise Rejected("RealtimeMaskNotFoundOrInvalid", SUBSET_MESSAGE)
    return frozenset(chosen)


MIXED_MESSAGE = ("Dedicated CPU set can be specified from either 'hw:cpu_dedicated_mask' or "
                 "'hw:cpu_realtime_mask' when using 'mixed' CPU policy. 'hw:cpu_dedicated_mask' "
                 "and 'hw:cpu_realtime_mask' can not be specified at the same time, or be "
                 "specified with none of them.")


def resolve(inputs: Inputs) -> CpuRequest:
    """The CPU part of ``numa_get_constraints``, in its order: policy, realtime mask, then
    realtime needs a dedicated (or mixed) policy, and a mixed one its realtime vCPUs (the
    dedicated mask is not modelled)."""
    policy = _policy(inputs)
    realtime = realtime_vcpus(inputs)
    if realtime and policy not in PINNED:
        raise Rejected("RealtimeConfigurationInvalid",
                       "Cannot set realtime policy in a non dedicated cpu pinning policy")
    if policy == "mixed" and not realtime:
        raise Rejected("RequiredMixedOrRealtimeCPUMask", MIXED_MESSAGE)
    return CpuRequest(policy, realtime)


def pinning(inputs: Inputs, request: CpuRequest) -> tuple[int, ...] | None:
    """The host CPU each vCPU is pinned to (a dedicated instance), None when it floats.

    Nova fits the instance onto the host's NUMA cell (``numa_fit_instance_to_host``); the
    reference pins vCPU i to the i-th CPU of ``cpu_dedicated_set`` (a conforming driver may
    choose others: the check wants distinct CPUs of that set)."""
    if request.policy != "dedicated":
        return None
    host = sorted(parse_cpu_spec(inputs.host.cpu_dedicated_set or ""))
    return tuple(host[:inputs.request.flavor.vcpus])


def numa_key(request: CpuRequest, pagesize) -> tuple | None:
    """What of the instance NUMA topology the reference models (``_validate_numa_rebuild``
    compares them): pinning and page size give an instance a topology."""
    if not (pagesize or request.policy in PINNED):
        return None
    return (request.policy, pagesize)
