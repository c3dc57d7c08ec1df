"""Broken on soft reboot and clean stop/start: a soft reboot that never asks the guest. Its
domains have no ``<features><acpi/>`` (a template without it), so the shutdown request of
Nova's soft reboot and power off (``virDomainShutdown``: the guest agent when the domain has
its channel, else the ACPI power button) never reaches a guest without the agent; the guest
is destroyed instead. None of the six features shows it at level xml; the live soft reboot
and clean stop/start of a guest without the agent catch it."""

from broken_drivers._base import Broken


def _drop_acpi(dom):
    for acpi in dom.xpath("features/acpi"):
        acpi.getparent().remove(acpi)


class _Protocol3(Broken):
    protocol = 3


driver = _Protocol3("broken-soft-reboot-unasked", rewrite_xml=_drop_acpi)
