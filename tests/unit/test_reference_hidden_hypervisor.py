"""Reference driver: hidden hypervisor (hide_hypervisor_id, hw:hide_hypervisor_id, img_hide_hypervisor_id)."""
import itertools

import pytest
from lxml import etree

from conformance.contract import Flavor, Image, Rejected, Request
from conformance.reference import ReferenceDriver, resolve

KEYS = [("flavor", "hide_hypervisor_id"), ("flavor", "hw:hide_hypervisor_id"),
        ("image", "img_hide_hypervisor_id")]


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


def request_from(values):
    """A request setting each of the three keys to the given string (None = unset)."""
    specs, props = {}, {}
    for (where, key), value in zip(KEYS, values):
        if value is not None:
            (specs if where == "flavor" else props)[key] = value
    return request(specs, props)


def hidden(dom):
    return [dict(h.attrib) for h in dom.findall("features/kvm/hidden")]


def test_default_not_hidden():
    """Nothing set: no <kvm> element."""
    assert resolve(request()).hide_hypervisor is False
    assert etree.fromstring(ReferenceDriver().build(request())).find("features/kvm") is None


@pytest.mark.parametrize("values", list(itertools.product([None, "false", "true"], repeat=3)))
def test_logical_or_of_three_keys(values):
    """The result is the OR of the three keys; an explicit false never overrides a true."""
    expected = "true" in values
    assert resolve(request_from(values)).hide_hypervisor is expected
    dom = etree.fromstring(ReferenceDriver().build(request_from(values)))
    assert hidden(dom) == ([{"state": "on"}] if expected else [])


@pytest.mark.parametrize("virt_type", ["qemu", "kvm"])
def test_hidden_for_qemu_and_kvm(virt_type):
    """Nova emits <kvm><hidden state='on'/> for virt_type qemu as well as kvm."""
    dom = etree.fromstring(ReferenceDriver().build(
        request({"hw:hide_hypervisor_id": "true"}, virt_type=virt_type)))
    assert hidden(dom) == [{"state": "on"}]


def test_image_unknown_string_is_false():
    """FlexibleBoolean image property: an unknown string means not hidden."""
    assert resolve(request(props={"img_hide_hypervisor_id": "hidden!"})).hide_hypervisor is False


@pytest.mark.parametrize("key", ["hide_hypervisor_id", "hw:hide_hypervisor_id"])
def test_flavor_keys_must_be_boolean_like(key):
    """Both flavor keys (legacy included) are validated as strict booleans."""
    with pytest.raises(Rejected) as exc:
        resolve(request({key: "hidden"}))
    assert exc.value.rejection.code == "InvalidExtraSpec"
    assert exc.value.rejection.message == (
        "Validation failed; 'hidden' is not a valid boolean-like value.")


def test_windows_gets_hyperv_vendor_id_spoof():
    """For os_type=windows Nova also spoofs the Hyper-V vendor id, after <spinlocks>."""
    dom = etree.fromstring(ReferenceDriver().build(
        request({"hw:hide_hypervisor_id": "yes"}, {"os_type": "windows"})))
    hyperv = dom.find("features/hyperv")
    tags = [c.tag for c in hyperv]
    assert tags.index("vendor_id") == tags.index("spinlocks") + 1
    assert dict(hyperv.find("vendor_id").attrib) == {"state": "on", "value": "1234567890ab"}
    assert [f.tag for f in dom.find("features")] == ["acpi", "apic", "hyperv", "vmcoreinfo", "kvm"]


def test_windows_without_hide_has_no_vendor_id():
    """Windows guests get <hyperv> but no vendor_id spoof unless hiding is requested."""
    dom = etree.fromstring(ReferenceDriver().build(request(props={"os_type": "windows"})))
    assert dom.find("features/hyperv") is not None
    assert dom.find("features/hyperv/vendor_id") is None
    assert dom.find("features/kvm") is None
