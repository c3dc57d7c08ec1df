"""Reference driver: locked memory (hw:locked_memory / hw_locked_memory) and page size rules."""
import pytest
from lxml import etree

from conformance.contract import Flavor, Image, Rejected, Request
from conformance.reference import ReferenceDriver, resolve

PAGE = {"hw:mem_page_size": "small"}
FORBIDDEN = "locked_memory value in image or flavor is forbidden when mem_page_size is not set."


def request(specs=None, props=None, **kw):
    return Request(flavor=Flavor(extra_specs=specs or {}), image=Image(properties=props or {}), **kw)


def rejection(req):
    with pytest.raises(Rejected) as exc:
        resolve(req)
    return exc.value.rejection.code, exc.value.rejection.message


def test_default_unlocked():
    """Nothing set: no <memoryBacking>."""
    assert resolve(request()).locked_memory is False
    assert etree.fromstring(ReferenceDriver().build(request())).find("memoryBacking") is None


def test_flavor_locked_xml():
    """hw:locked_memory=true with a page size gives <memoryBacking><locked/> after <memory>."""
    dom = etree.fromstring(ReferenceDriver().build(request({"hw:locked_memory": "true", **PAGE})))
    backing = dom.find("memoryBacking")
    assert [c.tag for c in backing] == ["locked"]
    assert backing.getprevious().tag == "memory"


@pytest.mark.parametrize("specs,props", [
    ({"hw:locked_memory": "yes", "hw:mem_page_size": "any"}, {}),
    ({"hw:mem_page_size": "large"}, {"hw_locked_memory": "1"}),
    ({"hw:mem_page_size": "2048"}, {"hw_locked_memory": "true"}),
    ({"hw:mem_page_size": "2MB", "hw:locked_memory": "1"}, {"hw_locked_memory": "yes"}),
    ({"hw:mem_page_size": "any", "hw:locked_memory": "1"}, {"hw_mem_page_size": "1GiB"}),
])
def test_locked_accepted(specs, props):
    """Locked memory from flavor, image or both (agreeing), with any page size source."""
    assert resolve(request(specs, props)).locked_memory is True


@pytest.mark.parametrize("specs,props", [
    ({"hw:locked_memory": "true"}, {}),
    ({}, {"hw_locked_memory": "yes"}),
])
def test_locked_without_page_size_forbidden(specs, props):
    """Locked memory requires a page size (flavor or image)."""
    assert rejection(request(specs, props)) == ("LockMemoryForbidden", FORBIDDEN)


@pytest.mark.parametrize("specs,props", [
    ({"hw:locked_memory": "false"}, {}),
    ({}, {"hw_locked_memory": "no"}),
    ({}, {"hw_locked_memory": "whatever"}),
    ({"hw:locked_memory": "0"}, {"hw_locked_memory": "off"}),
])
def test_explicit_false_needs_no_page_size(specs, props):
    """Explicitly unlocked (also via an unknown image string) is fine without a page size."""
    assert resolve(request(specs, props)).locked_memory is False


@pytest.mark.parametrize("flavor,image,fb,ib", [("true", "false", True, False),
                                                ("no", "yes", False, True)])
def test_conflict(flavor, image, fb, ib):
    """Flavor and image disagreeing is refused, in both directions, before the page-size rule."""
    assert rejection(request({"hw:locked_memory": flavor, **PAGE}, {"hw_locked_memory": image})) == (
        "FlavorImageLockedMemoryConflict",
        f"locked_memory value in image ({ib}) and flavor ({fb}) conflict. "
        "A consistent value is expected if both specified.")
    assert rejection(request({"hw:locked_memory": flavor}, {"hw_locked_memory": image}))[0] == (
        "FlavorImageLockedMemoryConflict")


def test_flavor_value_must_be_boolean_like():
    """hw:locked_memory is a strict boolean at the API."""
    assert rejection(request({"hw:locked_memory": "locked"})) == (
        "InvalidExtraSpec", "Validation failed; 'locked' is not a valid boolean-like value.")


# --- page size rules (checked before the locked-memory rules) ---

def test_image_page_size_without_flavor_forbidden():
    """An image page size needs the flavor to allow it; '<empty>' names the missing flavor value."""
    assert rejection(request(props={"hw_mem_page_size": "large"})) == (
        "MemoryPageSizeForbidden", "Page size large forbidden against '<empty>'")


@pytest.mark.parametrize("flavor", ["small", "2048", "2MB"])
def test_image_page_size_against_fixed_flavor_forbidden(flavor):
    """An image page size is forbidden unless the flavor says 'any' or 'large'."""
    assert rejection(request({"hw:mem_page_size": flavor}, {"hw_mem_page_size": "small"})) == (
        "MemoryPageSizeForbidden", f"Page size small forbidden against '{flavor}'")


@pytest.mark.parametrize("flavor", ["any", "large"])
def test_image_page_size_allowed_by_any_large(flavor):
    """'any' and 'large' flavors accept an image page size."""
    assert resolve(request({"hw:mem_page_size": flavor}, {"hw_mem_page_size": "4096"}))


@pytest.mark.parametrize("flavor", ["2M", "2k", "1Gi"])
def test_flavor_page_size_passing_api_but_invalid(flavor):
    """API-valid sizes without a b/B/bit suffix fail strutils.string_to_bytes later."""
    assert rejection(request({"hw:mem_page_size": flavor})) == (
        "MemoryPageSizeInvalid", f"Invalid memory page size '{flavor}'")


def test_image_page_size_invalid():
    """A malformed image page size (allowed by a flavor 'any') is MemoryPageSizeInvalid."""
    assert rejection(request({"hw:mem_page_size": "any"}, {"hw_mem_page_size": "huge"})) == (
        "MemoryPageSizeInvalid", "Invalid memory page size 'huge'")


def test_flavor_page_size_pattern():
    """The flavor API refuses page sizes outside Nova's pattern."""
    assert rejection(request({"hw:mem_page_size": "huge"})) == (
        "InvalidExtraSpec",
        "Validation failed; 'huge' is not of the format '(large|small|any|\\d+([kKMGT]i?)?(b|bit|B)?)'.")


def test_page_size_checked_before_locked_memory():
    """A forbidden page size is reported even when locked memory would also be refused."""
    req = request({"hw:locked_memory": "true"}, {"hw_locked_memory": "false", "hw_mem_page_size": "small"})
    assert rejection(req)[0] == "MemoryPageSizeForbidden"


def test_image_page_size_alone_cannot_satisfy_locked_rule():
    """An image page size without a flavor one is refused first (page-size rule precedes)."""
    assert rejection(request(props={"hw_locked_memory": "true", "hw_mem_page_size": "2048"})) == (
        "MemoryPageSizeForbidden", "Page size 2048 forbidden against '<empty>'")


def test_lenient_mode_still_checks_page_size():
    """Page-size checks run at server create, so they apply to pre-2.86 flavors too."""
    with pytest.raises(Rejected) as exc:
        ReferenceDriver(api_validation=False).build(request({"hw:mem_page_size": "huge"}))
    assert exc.value.rejection.code == "MemoryPageSizeInvalid"
