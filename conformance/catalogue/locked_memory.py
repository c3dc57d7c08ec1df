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


# Lifecycle cases: judged on the domain a driver builds after the operation (protocol 2).
reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="cb5ac954-dae2-4dcd-aa35-01e0862cb966", since="26.0.0", name="reboot-keeps", description="A hard reboot keeps locked memory.", extra_specs={FL: "true", FPS: "small"}),
    stop_start(id="bfa8c5af-6cab-4360-b226-4ae2853fe49d", since="26.0.0", name="stop-start-keeps", description="Stop/start keeps locked memory.",
               extra_specs={FL: "true", FPS: "small"}),
    resize(id="13cd1c5c-e6d1-4577-9e0f-04fa5cb524b5", since="26.0.0", name="resize-turns-on", description="Resize to a flavor locking memory (page size small).",
           extra_specs={FL: "true", FPS: "small"}),
    resize(id="ea3f9179-2319-4c14-9f76-446db75f4291", name="resize-turns-off", description="Resize to a flavor without locked memory.",
           old_extra_specs={FL: "true", FPS: "small"}),
    resize(id="fc6ac75e-b4f2-4998-bfde-8838f6b9fc46", since="26.0.0", name="resize-forbidden", description="The new flavor locks memory without a page size.",
           extra_specs={FL: "true"}, expect_rejection="LockMemoryForbidden"),
    resize(id="704bcc09-ff2e-4eb6-a91d-b9b6c17fff98", since="26.0.0", name="resize-conflict-with-image", description="The new flavor's false conflicts with the image's true.",
           old_extra_specs={FPS: "large"}, extra_specs={FL: "false", FPS: "large"}, image_properties={IM: "true"},
           expect_rejection="FlavorImageLockedMemoryConflict"),
    resize(id="c2d04c57-9ec0-4275-b9ef-537c59dc1a33", since="26.0.0", name="resize-image-still-locks", description="The image's true still locks with the new flavor's page size.",
           old_extra_specs={FPS: "large"}, extra_specs={FPS: "small"}, image_properties={IM: "true"}),
    rebuild(id="b779b521-8461-42c1-9d52-246a26fced69", since="26.0.0", name="rebuild-image-adds-locked", description="Rebuild to an image locking memory (flavor page size small).",
            extra_specs={FPS: "small"}, image_properties={IM: "true"}),
    rebuild(id="705d57c0-34d3-4d76-b18f-62191c9af534", since="26.0.0", name="rebuild-image-locked-no-pages", description="Rebuild to an image locking memory without any page size.",
            image_properties={IM: "true"}, expect_rejection="LockMemoryForbidden"),
    rebuild(id="1ed68abe-45ad-43c4-94a1-52853b97b0bb", name="rebuild-image-adds-page-size", description="An image adding hw_mem_page_size changes the NUMA "
            "topology: ImageNUMATopologyRebuildConflict.", extra_specs={FPS: "any"},
            image_properties={IM: "true", IPS: "large"}, expect_rejection="ImageNUMATopologyRebuildConflict"),
    rebuild(id="a7175ce2-4912-4e4f-a6f2-a2233bfa5745", name="rebuild-image-removes-page-size", description="An image dropping hw_mem_page_size changes the NUMA "
            "topology: ImageNUMATopologyRebuildConflict.", extra_specs={FPS: "any"},
            old_image_properties={IM: "true", IPS: "large"}, image_properties={IM: "true"},
            expect_rejection="ImageNUMATopologyRebuildConflict"),
    rebuild(id="ff5611e8-f944-49bd-afbd-e5dc5ea62509", since="26.0.0", name="rebuild-same-page-size", description="An image keeping the page size may add locked memory.",
            extra_specs={FPS: "any"}, old_image_properties={IPS: "large"}, image_properties={IM: "true", IPS: "large"}),
)
