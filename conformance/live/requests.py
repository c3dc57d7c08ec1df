"""What a live check asks the judged driver, and what keeps its domain from booting here.

Shared by create cases (:mod:`conformance.live.plan`) and lifecycle cases
(:mod:`conformance.live.lifecycle`): the one rule that puts the guest agent on every image
(:func:`with_agent`), the requests a case is booted with (:func:`live_request` for create,
:func:`live_requests` for a lifecycle operation's before and after), :class:`NotLive` (a
case that gets no live check, and why), and the boot blockers (:func:`boot_blocker`,
:func:`may_not_boot`). No pytest, no configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from conformance.contract import Request
from conformance.drivers.output import parse_domain
from conformance.live import locked_memory, pmu

AGENT_PROPERTY = "hw_qemu_guest_agent"


@dataclass(frozen=True)
class NotLive:
    """A catalogue case that gets no live check, and why."""
    case_id: str
    feature: str
    reason: str


def not_live_yet(operation: str) -> str:
    """Why a case of a protocol-3 operation has no live check (its level-1 check still runs)."""
    return f"operation {operation} is certified at level xml; live execution is not implemented yet"


def with_agent(request: Request, feature: str) -> Request:
    """``request`` with the guest agent on its image (and on the old image of a rebuild):
    the harness's only command channel into the guest, unless the case is about the agent
    or the image sets the property itself."""
    if feature == "agent":
        return request

    def add(image):
        if image is None or AGENT_PROPERTY in image.properties:
            return image
        return replace(image, properties={**image.properties, AGENT_PROPERTY: "yes"})
    return replace(request, image=add(request.image), old_image=add(request.old_image))


def live_request(case, virt_type: str, **identity) -> Request:
    """The request a create case is booted with.

    Two harness decisions, both outside what a case varies: the virt type is the
    accelerator this host can run (a guest of another type cannot boot here), and the
    image enables the guest agent (:func:`with_agent`).
    """
    return with_agent(replace(case.request(), virt_type=virt_type, **identity), case.feature)


def live_requests(case, virt_type: str, **identity) -> tuple[Request, Request]:
    """(before, after) requests a lifecycle case is booted with: the host's virt type, the
    agent added as for create cases, one identity (the instance's) for both."""
    after = with_agent(replace(case.request(), virt_type=virt_type, **identity), case.feature)
    before = with_agent(replace(case.before_request(), virt_type=virt_type, **identity), case.feature)
    return before, after


def boot_blocker(xml: str, virt_type: str, ram_bytes: int, caps=None) -> str | None:
    """The measured/known reason the domain in ``xml`` cannot start on the libvirt host
    (``caps``: its measured capabilities, default this machine's), or None.

    Checked before booting: memory encryption (``<launchSecurity>``) against the host's AMD
    SEV and KVM, UEFI firmware (never booted: the sandbox refuses host firmware), locked
    memory against the host's real RLIMIT_MEMLOCK and CAP_SYS_RESOURCE, and Hyper-V
    enlightenments (Nova adds them for os_type=windows), which QEMU implements only with KVM.
    """
    dom = parse_domain(xml)
    if dom.find("launchSecurity") is not None:  # checked first: it is also locked
        from conformance.host import capabilities
        return capabilities.sev_blocker(caps or capabilities.probe())
    if _uefi(dom):
        return ("the domain boots UEFI firmware (<loader> or <os firmware='efi'>): libvirt would "
                "read firmware files and create an nvram file on the host, which the sandbox "
                "refuses; judged at level xml only")
    if dom.find("memoryBacking/locked") is not None:
        reason = locked_memory.boot_blocker(ram_bytes, caps)
        if reason:
            return f"locked-memory guest cannot start here: {reason}"
    if virt_type != "kvm":
        enlightenments = [e.tag for e in dom.iterfind("features/hyperv/*")
                          if e.get("state", "on") == "on"]
        if enlightenments:
            return (f"the domain enables Hyper-V enlightenments ({', '.join(enlightenments)}), "
                    f"which QEMU supports only with KVM; accelerator is "
                    f"{pmu.accelerator_name(virt_type)}")
    return None


def _uefi(dom) -> bool:
    return dom.find("os/loader") is not None or dom.find("os[@firmware='efi']") is not None


def may_not_boot(xml: str) -> bool:
    """Whether :func:`boot_blocker` may stop the domain in ``xml`` on some host (locked
    memory, Hyper-V enlightenments, memory encryption, UEFI firmware), whatever this host is."""
    dom = parse_domain(xml)
    if dom.find("launchSecurity") is not None or _uefi(dom):
        return True
    return dom.find("memoryBacking/locked") is not None or any(
        e.get("state", "on") == "on" for e in dom.iterfind("features/hyperv/*"))
