"""Reference driver: vPMU (hw:pmu / hw_pmu)."""
import pytest
from lxml import etree

from conformance.contract import Flavor, Image, Rejected, Request
from conformance.reference import ReferenceDriver, resolve


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(name="f1", extra_specs=specs or {}),
                   image=Image(name="img1", properties=props or {}), **kw)


def pmu_elements(req):
    return [dict(p.attrib) for p in
            etree.fromstring(ReferenceDriver().build(req)).findall("features/pmu")]


def test_unset_means_no_element():
    """Neither flavor nor image: no <pmu>, the hypervisor decides."""
    assert resolve(request()).pmu is None
    assert pmu_elements(request()) == []


@pytest.mark.parametrize("value,state", [("true", "on"), ("1", "on"), ("false", "off"), ("NO", "off")])
def test_flavor_value(value, state):
    """The flavor alone sets the state, explicit false included."""
    assert pmu_elements(request({"hw:pmu": value})) == [{"state": state}]


@pytest.mark.parametrize("value,state", [("yes", "on"), ("off", "off")])
def test_image_value(value, state):
    """The image alone sets the state."""
    assert pmu_elements(request(props={"hw_pmu": value})) == [{"state": state}]


def test_image_unknown_string_is_explicit_false():
    """FlexibleBoolean: an unknown image string is an explicit False (<pmu state='off'/>)."""
    assert pmu_elements(request(props={"hw_pmu": "banana"})) == [{"state": "off"}]


@pytest.mark.parametrize("flavor,image", [("true", "yes"), ("off", "0")])
def test_agreeing_values(flavor, image):
    """Equal values in flavor and image are accepted."""
    assert resolve(request({"hw:pmu": flavor}, {"hw_pmu": image})).pmu == (flavor == "true")


@pytest.mark.parametrize("flavor,image,fb,ib", [("true", "false", True, False),
                                                ("no", "on", False, True)])
def test_conflict(flavor, image, fb, ib):
    """Different values in flavor and image are refused with Nova's message (both directions)."""
    with pytest.raises(Rejected) as exc:
        resolve(request({"hw:pmu": flavor}, {"hw_pmu": image}))
    assert exc.value.rejection.code == "FlavorImageConflict"
    assert exc.value.rejection.message == (
        f"Flavor f1 has hw:pmu extra spec explicitly set to {fb}, conflicting with image img1 "
        f"which has hw_pmu explicitly set to {ib}.")


def test_flavor_value_must_be_boolean_like():
    """The flavor API refuses a non-boolean hw:pmu."""
    with pytest.raises(Rejected) as exc:
        resolve(request({"hw:pmu": "enabled"}))
    assert exc.value.rejection.code == "InvalidExtraSpec"
    assert exc.value.rejection.message == (
        "Validation failed; 'enabled' is not a valid boolean-like value.")


def test_pmu_is_last_feature():
    """<pmu> follows <kvm> in <features> (Nova's order)."""
    dom = etree.fromstring(ReferenceDriver().build(
        request({"hw:pmu": "on", "hw:hide_hypervisor_id": "yes"})))
    assert [f.tag for f in dom.find("features")][-2:] == ["kvm", "pmu"]


def test_locked_memory_conflict_reported_before_pmu_conflict():
    """numa_get_constraints (locked memory) runs before the API's PMU check."""
    with pytest.raises(Rejected) as exc:
        resolve(request({"hw:pmu": "true", "hw:locked_memory": "true", "hw:mem_page_size": "any"},
                        {"hw_pmu": "false", "hw_locked_memory": "false"}))
    assert exc.value.rejection.code == "FlavorImageLockedMemoryConflict"
