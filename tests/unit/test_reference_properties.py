"""Reference driver: property tests over random flavor/image combinations (hypothesis)."""
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from conformance.contract import REJECTION_CODES, Boot, Flavor, Image, Rejected, Request
from conformance.errors import RequestInvalid
from conformance.reference import ReferenceDriver, resolve
from conformance.reference.strutils import bool_from_string

SCHEMA = "/usr/share/libvirt/schemas/domain.rng"
if not os.path.exists(SCHEMA):
    pytest.skip(f"libvirt RelaxNG schema {SCHEMA} missing", allow_module_level=True)
RELAXNG = etree.RelaxNG(etree.parse(SCHEMA))

BOOLS = ["1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no", "YES", " Off "]
WEIRD = ["", " ", "<", ">", "&", "&amp;", "\"'", "]]>", "<x/>", "maybe", "None", "-1", "0x10",
         "1e3", "é", "\u202e", "2M", "2MB", "any", "large", "small", "4096", "1GiB", "huge",
         "virtio", "reset", "disabled", "Reset"]
weird_text = st.one_of(st.sampled_from(WEIRD), st.text(max_size=12))


def mostly(valid):
    """Mostly a value from ``valid``, sometimes a weird string (about 1 in 6)."""
    return st.integers(0, 7).flatmap(lambda i: weird_text if i == 0 else st.sampled_from(valid))


BOOL_STRATEGY = mostly(BOOLS)
FLAVOR_KEYS = {
    "hw:watchdog_action": mostly(["none", "pause", "poweroff", "reset", "disabled"]),
    "hw_rng:allowed": BOOL_STRATEGY,
    "hw_rng:rate_bytes": mostly(["0", "1", "1024", "007", "1000000"]),
    "hw_rng:rate_period": mostly(["0", "1", "1000", "60000"]),
    "hw:pmu": BOOL_STRATEGY, "hw:hide_hypervisor_id": BOOL_STRATEGY,
    "hide_hypervisor_id": BOOL_STRATEGY, "hw:locked_memory": BOOL_STRATEGY,
    "hw:mem_page_size": mostly(["any", "large", "small", "4096", "2MB", "2M", "1GiB"]),
}
IMAGE_KEYS = {
    "hw_qemu_guest_agent": BOOL_STRATEGY,
    "hw_watchdog_action": mostly(["none", "pause", "poweroff", "reset", "disabled"]),
    "hw_pmu": BOOL_STRATEGY, "img_hide_hypervisor_id": BOOL_STRATEGY,
    "hw_locked_memory": BOOL_STRATEGY,
    "hw_mem_page_size": mostly(["any", "large", "small", "4096", "2MB", "1GiB"]),
    "hw_rng_model": mostly(["virtio"]),
    "os_type": mostly(["linux", "windows", "Windows"]),
}


def subset(keys):
    """A dict with a random subset of ``keys``, each drawn from its own strategy."""
    return st.fixed_dictionaries({}, optional=keys)


extra_keys = st.dictionaries(st.sampled_from(["hw:foo", "hw_rng:x", "foo", "a<b", "quota:cpu_shares",
                                              "hw:cpu_policy", "x:y"]), weird_text, max_size=1)
no_extra_keys = st.integers(0, 4).flatmap(lambda i: extra_keys if i == 0 else st.just({}))
requests = st.builds(
    lambda specs, extra, props, virt, cmdline: Request(
        virt_type=virt, flavor=Flavor(name="f<1>&", extra_specs={**extra, **specs}),
        image=Image(name="i\"'", properties=props), boot=Boot(cmdline=cmdline)),
    subset(FLAVOR_KEYS), no_extra_keys, subset(IMAGE_KEYS), st.sampled_from(["qemu", "kvm"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))


def outcome(fn, req):
    try:
        return fn(req)
    except Rejected as exc:
        assert exc.rejection.code in REJECTION_CODES
        assert exc.rejection.message
        return exc.rejection


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests)
def test_never_crashes_and_xml_is_schema_valid(req):
    """Every request gives schema-valid XML or a known rejection, and resolve() agrees with build()."""
    built = outcome(ReferenceDriver().build, req)
    resolved = outcome(resolve, req)
    if not isinstance(built, str):
        assert resolved == built
        return
    dom = etree.fromstring(built)
    assert RELAXNG.validate(dom), RELAXNG.error_log
    watchdogs = dom.findall("devices/watchdog")
    assert [w.get("action") for w in watchdogs] == (
        [resolved.watchdog_action] if resolved.watchdog_action else [])
    assert (dom.find("features/kvm/hidden") is not None) == resolved.hide_hypervisor
    assert (dom.find("memoryBacking/locked") is not None) == resolved.locked_memory
    assert len(dom.findall("devices/channel")) == int(resolved.agent)
    assert len(dom.findall("devices/rng")) == int(resolved.rng is not None)
    pmu = dom.find("features/pmu")
    assert (None if pmu is None else pmu.get("state") == "on") == resolved.pmu


@settings(max_examples=400, deadline=None)
@given(requests)
def test_precedence_rules(req):
    """Image watchdog beats flavor; hide is an OR; pmu/locked-memory disagreements are refused."""
    specs, props = req.flavor.extra_specs, req.image.properties
    result = outcome(resolve, req)
    if not hasattr(result, "watchdog_action"):
        return
    if "hw_watchdog_action" in props:
        expected = props["hw_watchdog_action"]
    else:
        expected = specs.get("hw:watchdog_action") or "disabled"
    assert result.watchdog_action == (None if expected == "disabled" else expected)
    assert result.hide_hypervisor == (
        bool_from_string(specs.get("hide_hypervisor_id"))
        or bool_from_string(specs.get("hw:hide_hypervisor_id"))
        or bool_from_string(props.get("img_hide_hypervisor_id")))
    for flavor_key, image_key in (("hw:pmu", "hw_pmu"), ("hw:locked_memory", "hw_locked_memory")):
        if flavor_key in specs and image_key in props:
            assert bool_from_string(specs[flavor_key]) == bool_from_string(props[image_key])
    if result.locked_memory:
        assert specs.get("hw:mem_page_size")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=8).filter(lambda t: any(ord(c) < 32 and c not in "\t\n\r" for c in t)))
def test_non_xml_boot_text_is_request_invalid(bad):
    """A boot string XML cannot carry is a RequestInvalid, never a crash or bad XML."""
    with pytest.raises(RequestInvalid):
        ReferenceDriver().build(Request(boot=Boot(cmdline=bad)))


@settings(max_examples=300, deadline=None)
@given(requests)
def test_lenient_mode_never_crashes(req):
    """Without API validation (pre-2.86 flavors) the driver still only returns XML or a known rejection."""
    result = outcome(ReferenceDriver(api_validation=False).build, req)
    if isinstance(result, str):
        assert etree.fromstring(result).tag == "domain"
