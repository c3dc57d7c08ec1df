"""Reference driver: Nova's API-level validation of flavor extra specs and image properties."""
import pytest

from conformance.contract import Flavor, Image, Rejected, Request
from conformance.reference import resolve
from conformance.reference.strutils import bool_from_string


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


def rejection(req):
    with pytest.raises(Rejected) as exc:
        resolve(req)
    return exc.value.rejection.code, exc.value.rejection.message


@pytest.mark.parametrize("value", ["1", "t", "true", "on", "y", "yes", "0", "f", "false", "off",
                                   "n", "no", "TRUE", "Yes", " on ", "\tN\n"])
def test_strict_boolean_accepts_oslo_strings(value):
    """Strict booleans: the 12 oslo strings, case-insensitive, surrounding blanks stripped."""
    resolve(request({"hw:pmu": value}))


@pytest.mark.parametrize("value", ["", "2", "tru", "enabled", "None", "yes!", "<y/>"])
def test_strict_boolean_refuses_others(value):
    """Anything else is refused with Nova's boolean-like message."""
    assert rejection(request({"hw:pmu": value})) == (
        "InvalidExtraSpec", f"Validation failed; '{value}' is not a valid boolean-like value.")


def test_lenient_bool_from_string():
    """The driver-side parse maps unknown strings to False."""
    assert bool_from_string("maybe") is False
    assert bool_from_string(None) is False
    assert bool_from_string(" YES ") is True


@pytest.mark.parametrize("key", ["hw:foo", "hw_rng:foo", "hw:watchdog", "hw_video:foo"])
def test_unknown_key_in_known_namespace(key):
    """An unknown key in a namespace Nova validates is refused."""
    assert rejection(request({key: "1"})) == (
        "InvalidExtraSpec",
        f"Validation failed; extra spec '{key}' does not appear to be a valid extra spec.")


@pytest.mark.parametrize("specs", [
    {"hw:cpu_policy": "shared"}, {"hw:numa_nodes": "1"}, {"hw:numa_cpus.0": "0"},
    {"hw:cpu_sockets": "1"}, {"hw:boot_menu": "yes"}, {"hw_video:ram_max_mb": "64"},
    {"foo": "bar"}, {"custom:thing": "x"}, {"resources:VCPU": "1"},
    {"trait:HW_CPU_X86_AVX2": "required"}, {"quota:cpu_shares": "10"},
])
def test_other_valid_keys_accepted(specs):
    """Real Nova keys of other features, unknown namespaces and un-namespaced keys pass."""
    resolve(request(specs))


@pytest.mark.parametrize("specs,message", [
    ({"hw:cpu_policy": "fast"}, "Validation failed; 'fast' is not one of: dedicated, shared, mixed."),
    ({"hw:numa_nodes": "x"}, "Validation failed; 'x' is not a valid integer value."),
])
def test_other_keys_values_validated(specs, message):
    """Keys of other features are validated too (Nova validates every key)."""
    assert rejection(request(specs)) == ("InvalidExtraSpec", message)


def test_key_outside_body_schema():
    """Keys with characters outside Nova's key pattern are refused by the body schema."""
    code, message = rejection(request({"hw:pmu<x>": "on"}))
    assert code == "InvalidExtraSpec"
    assert message.startswith("Invalid input for field/attribute extra_specs. Value: ")
    assert message.endswith(
        "'hw:pmu<x>' does not match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'")


def test_first_bad_extra_spec_reported_in_request_order():
    """With several bad extra specs, the first in request order is reported."""
    assert rejection(request({"hw:pmu": "x", "hw:locked_memory": "y"}))[1] == (
        "Validation failed; 'x' is not a valid boolean-like value.")


def test_extra_specs_checked_before_image():
    """Flavor extra specs are validated before image properties."""
    assert rejection(request({"hw:pmu": "x"}, {"hw_watchdog_action": "x"}))[0] == "InvalidExtraSpec"


@pytest.mark.parametrize("props,message", [
    ({"hw_rng_model": "virtio-ng"}, "Field value virtio-ng is invalid"),
    ({"hw_disk_bus": "floppy-ish"}, "Field value floppy-ish is invalid"),
    ({"os_type": "beos"}, "Field value beos is invalid"),
    ({"hw_serial_port_count": "two"}, "invalid literal for int() with base 10: 'two'"),
])
def test_image_property_coercion_errors(props, message):
    """Enum and integer image properties are coerced like ImageMetaProps and refused if bad."""
    assert rejection(request(props=props)) == (
        "InvalidImageProperty", f"Invalid image metadata. Error: {message}")


def test_image_os_type_case_insensitive():
    """OSType lower-cases before checking (so 'Windows' is valid)."""
    resolve(request(props={"os_type": "WINDOWS"}))


def test_image_unknown_properties_ignored():
    """Properties unknown to ImageMetaProps are ignored."""
    resolve(request(props={"my_property": "<x>", "hw_foo": "bar"}))


def test_image_first_bad_field_in_declaration_order():
    """ImageMetaProps sets fields in declaration order: hw_rng_model precedes hw_watchdog_action."""
    assert rejection(request(props={"hw_watchdog_action": "a", "hw_rng_model": "b"}))[1] == (
        "Invalid image metadata. Error: Field value b is invalid")


def test_pattern_must_match_whole_value():
    """Patterns are matched against the whole value (re.fullmatch), not a prefix."""
    assert rejection(request({"hw:mem_page_size": "smallish"}))[0] == "InvalidExtraSpec"


def test_legacy_image_property_names_coerced():
    """Legacy names (ImageMetaProps._legacy_property_map) are coerced into their new field."""
    assert rejection(request(props={"vmware_image_version": "v2"})) == (
        "InvalidImageProperty",
        "Invalid image metadata. Error: invalid literal for int() with base 10: 'v2'")
