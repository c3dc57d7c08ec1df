"""``<cputune>`` of a pinned or realtime instance: ``<vcpupin>`` per vCPU, ``<emulatorpin>``,
``<vcpusched scheduler='fifo'>`` for the realtime vCPUs.

Nova: driver.py ``_get_guest_numa_config`` (``_get_pin_cpuset``, ``_get_emulatorpin_cpuset``:
without an emulator threads policy the emulator threads float over the host CPUs of the
non-realtime vCPUs), designer.py ``set_vcpu_realtime_scheduler`` (priority
``[libvirt] realtime_scheduler_priority``, default 1). Nova also writes the guest NUMA cell
(``<cpu><numa>``, ``<numatune>``) and an ``<iothreadpin>``; the reference does not model
the instance NUMA topology (docs/reference-semantics.md).
"""

from __future__ import annotations

from lxml import etree

from conformance.reference import base
from conformance.reference.cpu_policy import format_cpu_spec
from conformance.reference.features import Features


def apply(dom: etree._Element, features: Features) -> None:
    if features.pinning is None:
        return
    tune = etree.Element("cputune")
    dom.find("vcpu").addnext(tune)
    realtime = features.realtime.vcpus if features.realtime else frozenset()
    for vcpu, cpu in enumerate(features.pinning):
        base.sub(tune, "vcpupin", vcpu=str(vcpu), cpuset=str(cpu))
    emulator = {cpu for vcpu, cpu in enumerate(features.pinning) if vcpu not in realtime}
    base.sub(tune, "emulatorpin", cpuset=format_cpu_spec(emulator))
    if features.realtime:
        base.sub(tune, "vcpusched", vcpus=format_cpu_spec(realtime), scheduler="fifo",
                 priority=str(features.realtime.priority))
