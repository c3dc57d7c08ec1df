"""Reference driver: virtio RNG (hw_rng:allowed, hw_rng:rate_bytes, hw_rng:rate_period)."""
import pytest
from lxml import etree

from conformance.contract import Flavor, HostSettings, Image, Rejected, Request
from conformance.reference import ReferenceDriver, RngSettings, resolve


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


def rngs(req, **driver_kw):
    return etree.fromstring(ReferenceDriver(**driver_kw).build(req)).findall("devices/rng")


def rejection(req, **driver_kw):
    with pytest.raises(Rejected) as exc:
        ReferenceDriver(**driver_kw).build(req)
    return exc.value.rejection.code, exc.value.rejection.message


def test_enabled_by_default():
    """Since Ussuri the RNG is on unless the flavor forbids it; backend is the host path."""
    assert resolve(request()).rng == RngSettings("/dev/urandom", None, None)
    [rng] = rngs(request())
    assert rng.get("model") == "virtio"
    assert rng.find("rate") is None
    backend = rng.find("backend")
    assert (backend.get("model"), backend.text) == ("random", "/dev/urandom")


@pytest.mark.parametrize("value", ["false", "0", "NO", "off"])
def test_allowed_false_removes_device(value):
    """hw_rng:allowed=false means no RNG device."""
    assert resolve(request({"hw_rng:allowed": value})).rng is None
    assert rngs(request({"hw_rng:allowed": value})) == []


def test_allowed_true_explicit():
    """An explicit true is the same as the default."""
    assert resolve(request({"hw_rng:allowed": "yes"})).rng is not None


def test_image_rng_model_not_needed_and_validated():
    """hw_rng_model=virtio changes nothing; another value is refused as image metadata."""
    assert resolve(request(props={"hw_rng_model": "virtio"})).rng == resolve(request()).rng
    assert rejection(request(props={"hw_rng_model": "egd"})) == (
        "InvalidImageProperty", "Invalid image metadata. Error: Field value egd is invalid")


def test_rate_element_when_both_nonzero():
    """<rate period bytes> appears when both values are non-zero, before <backend>."""
    req = request({"hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "2000"})
    assert resolve(req).rng == RngSettings("/dev/urandom", 1024, 2000)
    [rng] = rngs(req)
    assert [c.tag for c in rng] == ["rate", "backend"]
    assert dict(rng.find("rate").attrib) == {"period": "2000", "bytes": "1024"}


@pytest.mark.parametrize("specs", [
    {"hw_rng:rate_bytes": "1024"},
    {"hw_rng:rate_period": "1000"},
    {"hw_rng:rate_bytes": "0", "hw_rng:rate_period": "1000"},
    {"hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "0"},
])
def test_no_rate_unless_both_nonzero(specs):
    """A missing or zero value gives an RNG without rate limit."""
    assert resolve(request(specs)).rng == RngSettings("/dev/urandom", None, None)
    [rng] = rngs(request(specs))
    assert rng.find("rate") is None


def test_rate_values_normalised():
    """Values are parsed as integers (int() semantics) and written back canonically."""
    [rng] = rngs(request({"hw_rng:rate_bytes": " 007", "hw_rng:rate_period": "+1_000"}))
    assert dict(rng.find("rate").attrib) == {"period": "1000", "bytes": "7"}


def test_allowed_false_ignores_rates():
    """No device at all when not allowed, even with rates."""
    assert resolve(request({"hw_rng:allowed": "no", "hw_rng:rate_bytes": "5",
                            "hw_rng:rate_period": "5"})).rng is None


@pytest.mark.parametrize("key", ["hw_rng:rate_bytes", "hw_rng:rate_period"])
def test_rate_not_integer(key):
    """Non-integers are refused by the flavor API."""
    assert rejection(request({key: "abc"})) == (
        "InvalidExtraSpec", "Validation failed; 'abc' is not a valid integer value.")


@pytest.mark.parametrize("key", ["hw_rng:rate_bytes", "hw_rng:rate_period"])
def test_rate_negative(key):
    """Negative values are refused (min 0)."""
    assert rejection(request({key: "-1"})) == (
        "InvalidExtraSpec", "Validation failed; '-1' is less than the min value of '0'.")


def test_allowed_not_boolean():
    """hw_rng:allowed must be a strict boolean-like string at the API."""
    assert rejection(request({"hw_rng:allowed": "sometimes"})) == (
        "InvalidExtraSpec", "Validation failed; 'sometimes' is not a valid boolean-like value.")


def test_unknown_hw_rng_key():
    """An unknown key in the hw_rng namespace is refused."""
    assert rejection(request({"hw_rng:foo": "1"})) == (
        "InvalidExtraSpec",
        "Validation failed; extra spec 'hw_rng:foo' does not appear to be a valid extra spec.")


def test_missing_backend_path(tmp_path):
    """A host rng_dev_path that does not exist gives RngDeviceNotExist."""
    missing = str(tmp_path / "no-such-rng")
    req = request(host=HostSettings(rng_dev_path=missing))
    assert rejection(req) == (
        "RngDeviceNotExist", f"The provided RNG device path: ({missing}) is not present on the host.")


def test_missing_backend_path_irrelevant_when_not_allowed(tmp_path):
    """The path is only checked when a device is added."""
    req = request({"hw_rng:allowed": "false"}, host=HostSettings(rng_dev_path=str(tmp_path / "x")))
    assert resolve(req).rng is None


def test_backend_path_from_host(tmp_path):
    """The backend is the host's configured path."""
    dev = tmp_path / "rng"
    dev.write_bytes(b"")
    [rng] = rngs(request(host=HostSettings(rng_dev_path=str(dev))))
    assert rng.find("backend").text == str(dev)


def test_rate_parse_failure_without_api_validation():
    """Pre-2.86 flavors: a non-integer rate fails the build (named InvalidExtraSpec here)."""
    assert rejection(request({"hw_rng:rate_bytes": "abc"}), api_validation=False)[0] == (
        "InvalidExtraSpec")


def test_lenient_allowed_unknown_string_disables():
    """Without API validation an unknown boolean string counts as False (no device)."""
    assert rngs(request({"hw_rng:allowed": "sometimes"}), api_validation=False) == []


def test_rng_path_checked_before_watchdog_action(tmp_path):
    """Driver order: _add_rng_device runs before _guest_add_watchdog_action."""
    req = request({"hw:watchdog_action": "explode"},
                  host=HostSettings(rng_dev_path=str(tmp_path / "missing")))
    assert rejection(req, api_validation=False)[0] == "RngDeviceNotExist"
