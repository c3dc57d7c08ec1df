"""defineXML validation: the real libvirt host reads the sandboxed domain (then it is undefined).

The driver's XML goes through the lab's sandbox first (:mod:`conformance.lab.sandbox`): only
libvirt's canonical reading, inside the allow list, named and marked for the run (so the
run's cleanup finds it if the check is interrupted), reaches the host. A sandbox refusal
is a finding naming the rule (``sandbox.<rule>``); the host never saw the XML.
"""

from __future__ import annotations

from conformance.checks.finding import Finding
from conformance.errors import HostUnreachable, SandboxViolation


def check_define(lab, xml: str, request) -> list[Finding]:
    """Sandbox ``xml`` for ``request`` (its boot files, virt type and instance name), define
    it on ``lab``'s libvirt host and undefine it again."""
    import libvirt

    placement = lab.placement(request.boot, slug="xml", instance_name=request.instance_name,
                              virt_type=request.virt_type, define_only=True)
    try:
        lab.define_and_undefine(xml, placement)
    except SandboxViolation as exc:
        return [Finding(f"sandbox.{exc.rule}", "domain XML inside the harness sandbox",
                        str(exc))]
    except libvirt.libvirtError as exc:
        conn = lab.connected()  # HostUnreachable when the host went away: no verdict
        if not _alive(conn):
            raise HostUnreachable(lab.uri, f"defineXML: {exc.get_error_message()}") from None
        return [Finding("libvirt.define", "libvirt accepts the domain (defineXML)",
                        f"libvirt error: {exc.get_error_message()}")]
    return []


def _alive(conn) -> bool:
    try:
        return conn.isAlive() == 1
    except Exception:  # noqa: BLE001 - a dead connection may raise anything libvirt has
        return False
