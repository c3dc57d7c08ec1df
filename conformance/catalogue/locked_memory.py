"""Locked memory cases: flavor ``hw:locked_memory``, image ``hw_locked_memory`` (must agree;
needs a memory page size), and the page size checks that run before it."""

from functools import partial

from conformance.catalogue.case import Case

case = partial(Case, feature="locked_memory")
FL, IM = "hw:locked_memory", "hw_locked_memory"
FPS, IPS = "hw:mem_page_size", "hw_mem_page_size"

CASES = (
    case(id="56d8e7f8-ea16-4cfe-a010-2b244a3be824", name="unset", description="Nothing set: memory not locked."),
    case(id="eb603b5f-3511-494b-8678-08aa00a95b9c", since="26.0.0", name="flavor-true-small-pages", description="Flavor true with page size small: locked.",
         extra_specs={FL: "true", FPS: "small"}),
    case(id="a2b81a14-661d-4eaf-8c39-9d2471cbd68a", since="26.0.0", name="flavor-true-no-pages", description="Locked memory without a page size is "
         "forbidden.", extra_specs={FL: "true"}, expect_rejection="LockMemoryForbidden"),
    case(id="3b0f8703-94a7-4bd4-9619-6fadde0bcc63", since="26.0.0", name="image-true-no-pages", description="Image locked memory without a page size is "
         "forbidden.", image_properties={IM: "yes"}, expect_rejection="LockMemoryForbidden"),
    case(id="d51cd076-3a6a-4fee-9c74-ef13bc71e103", since="26.0.0", name="image-true-flavor-large", description="Image true with flavor page size large: "
         "locked.", extra_specs={FPS: "large"}, image_properties={IM: "true"}),
    case(id="f78d3e51-5e00-473f-baa2-2e0ab4eb3c91", since="26.0.0", name="conflict-flavor-true", description="Flavor true, image false: conflict.",
         extra_specs={FL: "true", FPS: "small"}, image_properties={IM: "false"},
         expect_rejection="FlavorImageLockedMemoryConflict"),
    case(id="7ba54151-3120-4689-90d2-5dd40ad9ee5b", since="26.0.0", name="conflict-flavor-false", description="Flavor false, image true: conflict.",
         extra_specs={FL: "false", FPS: "small"}, image_properties={IM: "true"},
         expect_rejection="FlavorImageLockedMemoryConflict"),
    case(id="80e0a175-eda8-43b8-a3fb-8fe724431bd9", name="flavor-false", description="Explicit false needs no page size: not locked.",
         extra_specs={FL: "false"}),
    case(id="d178d7da-92a7-4907-b04c-ecb7dab3656f", name="image-false", description="Image explicit false: not locked.",
         image_properties={IM: "no"}),
    case(id="9f9dd86b-d8d5-40fd-a46d-deb4c0c7ba3c", since="26.0.0", name="both-true-any", description="Both true with page size any: locked.",
         extra_specs={FL: "1", FPS: "any"}, image_properties={IM: "on"}),
    case(id="9d1a78a9-9b59-4382-82fa-b0521924c0a2", name="both-false", description="Both false agree: not locked.",
         extra_specs={FL: "no"}, image_properties={IM: "0"}),
    case(id="9c36eb49-69ff-4e5b-a32b-cbda90160240", name="flavor-invalid", description="'maybe' is not boolean-like at the API.",
         extra_specs={FL: "maybe", FPS: "small"}, expect_rejection="InvalidExtraSpec"),
    case(id="ae651a7a-5785-4d63-893f-1bf4aa1a340a", since="26.0.0", name="flavor-pages-size-units", description="Page size with units (2MB) satisfies the "
         "rule.", extra_specs={FL: "true", FPS: "2MB"}),
    case(id="5b712e0a-f3b9-4e6a-a315-fd175b3d2e6a", since="26.0.0", name="flavor-pages-digits", description="Page size in KiB digits (2048) satisfies the "
         "rule.", extra_specs={FL: "True", FPS: "2048"}),
    case(id="b21b81c1-fb19-44d3-85b4-e9272884dd28", name="flavor-pages-pattern-invalid", description="A flavor page size outside the API "
         "pattern is an invalid extra spec.", extra_specs={FL: "true", FPS: "huge"},
         expect_rejection="InvalidExtraSpec"),
    case(id="49bdeb78-aa8e-4e6f-911d-e6d092d53b40", name="flavor-pages-no-unit-suffix", description="'1Gi' passes the API pattern but is not "
         "a parsable size: MemoryPageSizeInvalid.", extra_specs={FL: "true", FPS: "1Gi"},
         expect_rejection="MemoryPageSizeInvalid"),
    case(id="8cf7bb21-354d-4e20-907b-be7dd2f1e8fc", name="image-pages-invalid", description="Image page size 'huge' against flavor any: "
         "MemoryPageSizeInvalid.", extra_specs={FL: "true", FPS: "any"}, image_properties={IPS: "huge"},
         expect_rejection="MemoryPageSizeInvalid"),
    case(id="e14c5fd5-5655-4b53-8939-558e2e1a954e", name="image-pages-forbidden-empty", description="Image page size without a flavor page "
         "size is forbidden (before the locked rule).", image_properties={IM: "true", IPS: "large"},
         expect_rejection="MemoryPageSizeForbidden"),
    case(id="8b258f0a-7a44-41bb-a719-0d2c512140e2", name="image-pages-forbidden-small", description="Image page size against flavor small is "
         "forbidden.", extra_specs={FL: "true", FPS: "small"}, image_properties={IPS: "large"},
         expect_rejection="MemoryPageSizeForbidden"),
    case(id="eedd0dca-89d8-444f-a120-1b608358a18e", since="26.0.0", name="image-pages-allowed-large", description="Image page size against flavor large "
         "satisfies the rule.", extra_specs={FPS: "large"}, image_properties={IM: "true", IPS: "2048"}),
    case(id="7da8072d-f654-46c8-a8d1-cac6b9e8ea43", since="26.0.0", name="kvm-locked", description="virt_type kvm, locked with page size small.",
         extra_specs={FL: "true", FPS: "small"}, virt_type="kvm"),
)
