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
