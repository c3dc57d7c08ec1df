"""Watchdog cases: flavor ``hw:watchdog_action``, image ``hw_watchdog_action`` (image wins)."""

from functools import partial

from conformance.catalogue.case import Case

case = partial(Case, feature="watchdog")
FL, IM = "hw:watchdog_action", "hw_watchdog_action"

CASES = (
    case(id="9a191045-33e0-4103-ac3d-31c32b9b761d", name="unset", description="No watchdog key: default 'disabled', no device."),
    case(id="21a1ff36-a6b5-4c5d-84b9-b5ad5863a80c", name="flavor-none", description="Flavor 'none' still adds the i6300esb device.",
         extra_specs={FL: "none"}),
    case(id="a899482c-fa46-498f-be8b-826a33c00e80", name="flavor-pause", description="Flavor 'pause'.", extra_specs={FL: "pause"}),
    case(id="95dc0f96-8a69-4901-b5f2-fef184df4828", name="flavor-poweroff", description="Flavor 'poweroff'.", extra_specs={FL: "poweroff"}),
    case(id="4f658257-17a6-4713-9d37-9fdae7dfbd52", name="flavor-reset", description="Flavor 'reset'.", extra_specs={FL: "reset"}),
    case(id="f835db6e-6f8b-4717-b9aa-002e07230a72", since="15.0.0", name="flavor-disabled", description="Flavor 'disabled': no device.",
         extra_specs={FL: "disabled"}),
    case(id="3d1d2f0d-f242-4645-85de-b047ee4cc364", name="image-none", description="Image 'none' adds the device.", image_properties={IM: "none"}),
    case(id="16a39025-5d65-46ff-b901-51ee62e68db7", name="image-pause", description="Image 'pause'.", image_properties={IM: "pause"}),
    case(id="57e1a238-c383-499d-a36c-c558f6f6ef3f", name="image-poweroff", description="Image 'poweroff'.", image_properties={IM: "poweroff"}),
    case(id="13179711-5b37-4926-87ab-6b404ffcf1a1", name="image-reset", description="Image 'reset'.", image_properties={IM: "reset"}),
    case(id="4adde2ff-a9e1-4fa9-bd7a-b7698e558534", since="15.0.0", name="image-disabled", description="Image 'disabled': no device.",
         image_properties={IM: "disabled"}),
    case(id="8dd47631-5aaa-47af-9e71-4b25b740a930", since="15.0.0", name="image-disabled-beats-flavor-reset", description="Image 'disabled' overrides "
         "flavor 'reset': no device.", extra_specs={FL: "reset"}, image_properties={IM: "disabled"}),
    case(id="263d1963-4100-4ca4-acac-b760adb6104a", name="image-reset-beats-flavor-pause", description="Image 'reset' overrides flavor 'pause'.",
         extra_specs={FL: "pause"}, image_properties={IM: "reset"}),
    case(id="71d93b8d-be42-4c08-a71d-c2b107495ee2", since="15.0.0", name="image-pause-beats-flavor-disabled", description="Image 'pause' overrides flavor "
         "'disabled'.", extra_specs={FL: "disabled"}, image_properties={IM: "pause"}),
    case(id="de88b6ef-dfee-46a1-87b4-a6133e91c840", name="image-none-beats-flavor-poweroff", description="Image 'none' overrides flavor "
         "'poweroff'.", extra_specs={FL: "poweroff"}, image_properties={IM: "none"}),
    case(id="f036ebfc-5821-435a-a105-bdc90471ad11", name="flavor-explode", description="Flavor action outside the enum: API rejects.",
         extra_specs={FL: "explode"}, expect_rejection="InvalidExtraSpec"),
    case(id="662f10f3-446a-4815-90ad-9af14755ceea", name="flavor-case-sensitive", description="The enum is case-sensitive: 'Reset' is "
         "rejected.", extra_specs={FL: "Reset"}, expect_rejection="InvalidExtraSpec"),
    case(id="00713308-ee18-414d-a93c-65cb20c1198a", name="flavor-empty", description="An empty flavor action is not in the enum.",
         extra_specs={FL: ""}, expect_rejection="InvalidExtraSpec"),
    case(id="308770f0-0daa-41c5-977d-6b0fd752f0ac", name="image-explode", description="Image action outside the enum: invalid image metadata.",
         image_properties={IM: "explode"}, expect_rejection="InvalidImageProperty"),
    case(id="2c15f31d-a8f4-41b3-bdee-d62542742c77", name="flavor-unknown-key", description="A misspelt hw: key is rejected by the API.",
         extra_specs={"hw:watchdog_actions": "reset"}, expect_rejection="InvalidExtraSpec"),
    case(id="ac6aae34-31d0-4f79-bb7c-865671f8a703", name="kvm-reset", description="The watchdog is added for virt_type kvm too.",
         extra_specs={FL: "reset"}, virt_type="kvm"),
)


# Lifecycle cases: judged on the domain a driver builds after the operation (protocol 2).
reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="4e4f2994-76d6-4c9c-b742-dee73fe39f1b", name="reboot-keeps-flavor-action", description="A hard reboot regenerates the same watchdog (flavor 'reset').",
           extra_specs={FL: "reset"}),
    reboot(id="bec0fe41-cf74-4995-a777-5c5eb77e831e", name="reboot-keeps-image-action", description="A hard reboot regenerates the image's 'pause', "
           "which still beats the flavor's 'reset'.", extra_specs={FL: "reset"}, image_properties={IM: "pause"}),
    stop_start(id="cc5cbc8f-9f2d-4b65-9c0e-35a8e3c690b6", name="stop-start-keeps-image-action", description="Stop/start keeps the image's 'pause' action.",
               image_properties={IM: "pause"}),
    resize(id="608a145d-6861-4260-b3c7-8947d67f3697", name="resize-changes-action", description="Resize from flavor 'reset' to 'pause': the new flavor's action.",
           old_extra_specs={FL: "reset"}, extra_specs={FL: "pause"}),
    resize(id="07528c03-aa89-4755-876a-ee0e84bf10e9", name="resize-removes-watchdog", description="Resize to a flavor without a watchdog: the device is gone.",
           old_extra_specs={FL: "reset"}),
    resize(id="6b31d00f-d7d4-4915-8364-d8e699c319e6", name="resize-adds-watchdog", description="Resize to a flavor with 'poweroff': the device appears.",
           extra_specs={FL: "poweroff"}),
    resize(id="dffa53c3-ad5f-4f73-9162-dc197cdb0cb0", name="resize-image-still-wins", description="The image's 'pause' still beats the new flavor's 'poweroff'.",
           old_extra_specs={FL: "reset"}, extra_specs={FL: "poweroff"}, image_properties={IM: "pause"}),
    rebuild(id="36d97736-9686-4fbc-8d97-0a9f7014d2f5", name="rebuild-image-turns-on", description="Rebuild to an image with 'reset': the device appears.",
            image_properties={IM: "reset"}),
    rebuild(id="ba0df0ef-d364-4d02-82cb-7dbad91615ab", since="15.0.0", name="rebuild-image-turns-off", description="Rebuild to an image with 'disabled' beats the flavor's 'reset'.",
            extra_specs={FL: "reset"}, old_image_properties={IM: "reset"}, image_properties={IM: "disabled"}),
    rebuild(id="4cbbade8-a571-409e-89f9-ebaffdf83466", name="rebuild-image-removed-flavor-applies", description="Rebuild to an image without the key: the flavor's "
            "'pause' applies again.", extra_specs={FL: "pause"}, old_image_properties={IM: "reset"}),
    resize(id="d3791b31-cb1e-432b-b609-b283f0fe190a", name="resize-new-flavor-invalid", description="A new flavor action outside the enum: API rejects the resize.",
           old_extra_specs={FL: "reset"}, extra_specs={FL: "explode"}, expect_rejection="InvalidExtraSpec"),
    rebuild(id="dfc61172-59eb-49f4-9efd-6dafff86c60d", name="rebuild-new-image-invalid", description="A new image action outside the enum: invalid image metadata.",
            old_image_properties={IM: "reset"}, image_properties={IM: "explode"}, expect_rejection="InvalidImageProperty"),
)
