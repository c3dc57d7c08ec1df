"""Reference driver: watchdog (hw:watchdog_action / hw_watchdog_action)."""
import pytest
from lxml import etree

from conformance.contract import Flavor, Image, Rejected, Request
from conformance.reference import ReferenceDriver, resolve

ACTIONS = ["none", "pause", "poweroff", "reset"]


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


def watchdogs(req, **driver_kw):
    dom = etree.fromstring(ReferenceDriver(**driver_kw).build(req))
    return [dict(w.attrib) for w in dom.iterfind("devices/watchdog")]


def test_default_is_no_watchdog():
    """Without flavor or image setting there is no watchdog device (default 'disabled')."""
    assert resolve(request()).watchdog_action is None
    assert watchdogs(request()) == []


@pytest.mark.parametrize("action", ACTIONS)
def test_flavor_action_adds_i6300esb(action):
    """Each non-disabled flavor action gives one i6300esb device with that action."""
    assert watchdogs(request({"hw:watchdog_action": action})) == [
        {"model": "i6300esb", "action": action}]


@pytest.mark.parametrize("action", ACTIONS)
def test_image_action_adds_i6300esb(action):
    """The image property alone also adds the device."""
    assert watchdogs(request(props={"hw_watchdog_action": action})) == [
        {"model": "i6300esb", "action": action}]


def test_none_still_adds_device():
    """'none' is an action (device present, no action on expiry), unlike 'disabled'."""
    assert resolve(request({"hw:watchdog_action": "none"})).watchdog_action == "none"


def test_flavor_disabled_adds_nothing():
    """An explicit flavor 'disabled' adds no device."""
    assert watchdogs(request({"hw:watchdog_action": "disabled"})) == []


def test_image_beats_flavor():
    """The image value overrides the flavor value."""
    req = request({"hw:watchdog_action": "reset"}, {"hw_watchdog_action": "pause"})
    assert resolve(req).watchdog_action == "pause"


def test_image_disabled_beats_flavor_reset():
    """An image 'disabled' removes the flavor's watchdog."""
    req = request({"hw:watchdog_action": "reset"}, {"hw_watchdog_action": "disabled"})
    assert watchdogs(req) == []


def test_image_reset_beats_flavor_disabled():
    """An image action enables the watchdog even when the flavor says 'disabled'."""
    req = request({"hw:watchdog_action": "disabled"}, {"hw_watchdog_action": "reset"})
    assert resolve(req).watchdog_action == "reset"


def test_applies_to_kvm_too():
    """The watchdog is added for every virt type."""
    assert watchdogs(request({"hw:watchdog_action": "reset"}, virt_type="kvm")) == [
        {"model": "i6300esb", "action": "reset"}]


@pytest.mark.parametrize("value", ["explode", "Reset", "", "dump"])
def test_bad_flavor_value_is_invalid_extra_spec(value):
    """The flavor API refuses values outside the five Nova actions (case-sensitive)."""
    with pytest.raises(Rejected) as exc:
        resolve(request({"hw:watchdog_action": value}))
    assert exc.value.rejection.code == "InvalidExtraSpec"
    assert exc.value.rejection.message == (
        f"Validation failed; '{value}' is not one of: none, pause, poweroff, reset, disabled.")


@pytest.mark.parametrize("value", ["explode", "RESET", ""])
def test_bad_image_value_is_invalid_image_property(value):
    """The image property is an enum field: a bad value is refused as invalid image metadata."""
    with pytest.raises(Rejected) as exc:
        resolve(request(props={"hw_watchdog_action": value}))
    assert exc.value.rejection.code == "InvalidImageProperty"
    assert exc.value.rejection.message == (
        f"Invalid image metadata. Error: Field value {value} is invalid")


def test_bad_image_value_refused_even_if_flavor_valid():
    """A bad image value is refused although a valid flavor value is present."""
    with pytest.raises(Rejected) as exc:
        resolve(request({"hw:watchdog_action": "reset"}, {"hw_watchdog_action": "boom"}))
    assert exc.value.rejection.code == "InvalidImageProperty"


def test_invalid_watchdog_action_without_api_validation():
    """With pre-2.86 flavors (no API validation) the driver raises InvalidWatchdogAction."""
    with pytest.raises(Rejected) as exc:
        ReferenceDriver(api_validation=False).build(request({"hw:watchdog_action": "explode"}))
    assert exc.value.rejection.code == "InvalidWatchdogAction"
    assert exc.value.rejection.message == "Provided watchdog action (explode) is not supported."


def test_empty_flavor_value_without_api_validation_means_disabled():
    """Nova's ``extra_specs.get(...) or 'disabled'``: an empty flavor value is 'disabled'."""
    assert watchdogs(request({"hw:watchdog_action": ""}), api_validation=False) == []
