"""What must persist across a lifecycle operation, judged on what the driver answered.

:func:`facts_before` records, right before the operation, the boot ids on the console and
the driver's own before and after answers (before the sandbox rewrites anything).
:func:`check_persisted_host` then demands the instance's uuid, ``<sysinfo>`` uuid and name
in both answers, an after domain that differs from the before domain where the reference's
features change, and the instance's uuid on the running domain; :func:`check_persisted_guest`
the instance's uuid as the guest's SMBIOS system uuid. What the operation does to the boot
follows from what the harness itself did (:mod:`conformance.live.operations`): exactly one
new boot id after an operation that restarts the guest, the same boot id after one that
does not (pause, suspend, live migration), on the console and in the guest, the domain
running. When it is otherwise, no verdict is possible (:class:`~conformance.errors.GuestError`),
whatever the driver answered. After an operation that keeps the domain (pause, suspend), the
host level also demands that the definition libvirt keeps is the one it kept before
(:func:`conformance.live.local_operations.check_kept_definition`).
"""

from __future__ import annotations

from dataclasses import fields

from conformance.checks.lifecycle import same_uuid
from conformance.drivers.output import parse_domain
from conformance.errors import GuestError
from conformance.live import GUEST, HOST, expect
from conformance.live.clean_shutdown import check_shutdown
from conformance.live.grouping import normalise
from conformance.live.local_operations import check_kept_definition, definition_facts
from conformance.live.operations import performer
from conformance.live.shell import sh

FEATURE = "lifecycle"
PRODUCT_UUID = "/sys/class/dmi/id/product_uuid"


# Features field -> feature name (conformance.catalogue.FEATURES)
FEATURE_OF = {"agent": "agent", "watchdog_action": "watchdog", "rng": "rng", "pmu": "pmu",
              "hide_hypervisor": "hidden_hypervisor", "locked_memory": "locked_memory"}


def identity(xml: str) -> dict:
    """The identity a driver answered in ``xml``, as it wrote it: ``uuid``, ``name`` and,
    when it has a ``<sysinfo>``, the system uuids there (``sysinfo_uuids``)."""
    dom = parse_domain(xml)
    found = {"uuid": (dom.findtext("uuid") or "").strip(), "name": dom.findtext("name") or ""}
    sysinfo = [(e.text or "").strip() for e in dom.iterfind("sysinfo/system/entry[@name='uuid']")]
    if sysinfo:
        found["sysinfo_uuids"] = sysinfo
    return found


def must_change(before, after) -> list[str]:
    """Features whose reference settings differ before and after the operation (what only
    shapes them, e.g. the machine type or pinning, is not a feature of its own)."""
    return [FEATURE_OF[f.name] for f in fields(before)
            if f.name in FEATURE_OF and getattr(before, f.name) != getattr(after, f.name)]


def facts_before(guest, pair, before_xml: str, after_xml: str,
                 instance_name: str, instance_uuid: str) -> dict:
    """What the persistence checks compare, taken right before ``pair``'s operation
    (a :class:`~conformance.live.lifecycle.LifecyclePair`): the boot ids on ``guest``'s
    console, the instance's identity, and the driver's own before and after answers
    (``before_xml``, ``after_xml``) before the sandbox rewrites anything."""
    seen = guest.boot_ids()
    return {"operation": pair.operation, "boot_before": seen[-1], "boots_seen": seen,
            "restarts": performer(pair.operation).restarts,
            "instance": {"uuid": instance_uuid, "name": instance_name},
            "answered": {"before": identity(before_xml), "after": identity(after_xml)},
            "must_change": must_change(pair.before, pair.after),
            "domain_changed": normalise(before_xml) != normalise(after_xml),
            **definition_facts(guest, pair.operation)}


def new_boots(guest, seen) -> list[str]:
    """Boot ids on the console not in ``seen`` (a boot id or the ids on the console before
    the operation: QEMU may truncate or append the log, a trail's guest booted before)."""
    seen = {seen} if isinstance(seen, str) else set(seen)
    return [b for b in guest.boot_ids() if b not in seen]


def _seen(facts: dict) -> list[str]:
    return facts.get("boots_seen") or [facts["boot_before"]]


def _check_answers(facts: dict, evidence: dict) -> None:
    """The driver's before and after answers carry the instance's identity, and the after
    domain changed where the reference's features change."""
    operation, instance = facts["operation"], facts["instance"]
    for when in ("before", "after"):
        got = facts["answered"][when]
        expect(same_uuid(got["uuid"], instance["uuid"]), FEATURE, HOST,
               f"the driver's <uuid> {when} the {operation}", instance["uuid"], got["uuid"], **evidence)
        for answered in got.get("sysinfo_uuids", []):
            expect(same_uuid(answered, instance["uuid"]), FEATURE, HOST,
                   f"the driver's <sysinfo> uuid {when} the {operation}", instance["uuid"],
                   answered, **evidence)
        expect(got["name"] == instance["name"], FEATURE, HOST,
               f"the driver's <name> {when} the {operation}", instance["name"], got["name"], **evidence)
    changes = facts["must_change"]
    expect(facts["domain_changed"] or not changes, FEATURE, HOST,
           f"the driver's domain after the {operation}",
           f"another domain than before ({', '.join(changes)} change)",
           "the domain before the operation, unchanged", **evidence)


def check_persisted_host(guest, facts: dict) -> dict:
    """Host level: the driver answered the instance's identity before and after the operation
    and changed what the operation changes; the running domain is that instance (uuid).
    A domain not running, or not booted exactly once since, is no verdict (GuestError)."""
    operation, instance = facts["operation"], facts["instance"]
    boots = new_boots(guest, _seen(facts))
    evidence = {"instance": instance, "answered": facts["answered"],
                "must_change": facts["must_change"], "domain_changed": facts["domain_changed"],
                "uuid": guest.live_xml().findtext("uuid"), "boot_before": facts["boot_before"],
                "boots_after": boots, "operation": operation, "libvirt_uri": getattr(guest, "uri", None)}
    _check_answers(facts, evidence)
    expect(same_uuid(evidence["uuid"], instance["uuid"]), FEATURE, HOST,
           f"domain uuid after the {operation}", instance["uuid"], evidence["uuid"], **evidence)
    if "definition_before" in facts:  # an operation that keeps the domain
        evidence.update(check_kept_definition(guest, facts))
    if facts.get("shutdown"):  # the guest was asked to shut down first
        evidence["shutdown"] = check_shutdown(guest, facts["shutdown"], evidence)
    state = guest.state()[0]
    if state != "running":
        raise GuestError(f"{guest.name}: domain state after the {operation} is {state!r}, not "
                         "running: no verdict on what persisted")
    want = 1 if facts.get("restarts", True) else 0
    if len(boots) != want:
        raise GuestError(f"{guest.name}: {len(boots)} boots since the operation ({boots}), not "
                         f"{'exactly one' if want else 'none'}: the {operation} "
                         f"{'did not restart the guest once' if want else 'restarted the guest'}")
    return evidence


def check_persisted_guest(guest, facts: dict) -> dict:
    """Guest level: the guest reads the instance's uuid as its SMBIOS system uuid (what the
    driver answered). The agent answers again and the kernel's boot id is the one new boot,
    or the boot id before the operation when it does not restart the guest (else no
    verdict: GuestError)."""
    operation, instance = facts["operation"], facts["instance"]
    guest.ping()
    boot_now = _read(guest, "cat /proc/sys/kernel/random/boot_id")
    product_uuid = _read(guest, f"cat {PRODUCT_UUID}")
    boots = new_boots(guest, _seen(facts))
    evidence = {"instance": instance, "product_uuid": product_uuid, "operation": operation,
                "boot_before": facts["boot_before"], "boot_now": boot_now, "boots_after": boots}
    if facts.get("restarts", True) and boots != [boot_now]:
        raise GuestError(f"{guest.name}: in-guest boot id after the {operation} is {boot_now}, "
                         f"the boots on the console since it {boots}: the guest did not restart once")
    if not facts.get("restarts", True) and (boots or boot_now != facts["boot_before"]):
        raise GuestError(f"{guest.name}: in-guest boot id after the {operation} is {boot_now}, "
                         f"before it {facts['boot_before']}, new boots on the console {boots}: "
                         "the guest restarted")
    expect(same_uuid(product_uuid, instance["uuid"]), FEATURE, GUEST,
           f"SMBIOS system uuid in the guest after the {operation}", instance["uuid"],
           product_uuid, **evidence)
    return evidence


def _read(guest, script: str) -> str:
    out = sh(guest, script).stdout
    return (out.decode() if isinstance(out, bytes) else out).strip()


__all__ = ["facts_before", "check_persisted_host", "check_persisted_guest", "new_boots",
           "identity", "must_change"]
