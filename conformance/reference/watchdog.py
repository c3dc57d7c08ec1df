"""i6300esb watchdog (flavor ``hw:watchdog_action``, image ``hw_watchdog_action``).

Nova: driver.py ``_guest_add_watchdog_action`` (all virt types): the image value beats
the flavor value, unset/empty flavor value means 'disabled', 'disabled' adds no device,
any other value outside WatchdogAction.ALL raises InvalidWatchdogAction.
"""

from __future__ import annotations

from lxml import etree

from conformance.contract import Rejected
from conformance.reference import base
from conformance.reference.inputs import Inputs

ACTIONS = ("none", "pause", "poweroff", "reset", "disabled")  # fields.WatchdogAction.ALL


def resolve(inputs: Inputs) -> str | None:
    action = inputs.extra_specs.get("hw:watchdog_action") or "disabled"
    action = inputs.image_props.get("hw_watchdog_action", action)
    if action == "disabled":
        return None
    if action not in ACTIONS:
        raise Rejected("InvalidWatchdogAction",
                       f"Provided watchdog action ({action}) is not supported.")
    return action


def apply(dom: etree._Element, action: str | None, inputs: Inputs) -> None:
    if action is not None:
        base.sub(base.devices(dom), "watchdog", model="i6300esb", action=action)
