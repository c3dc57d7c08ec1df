"""Hidden hypervisor cases: flavor ``hw:hide_hypervisor_id``, legacy ``hide_hypervisor_id``,
image ``img_hide_hypervisor_id``; the logical OR of all three."""

from functools import partial

from conformance.catalogue.case import Case

case = partial(Case, feature="hidden_hypervisor")
FL, LEGACY, IM = "hw:hide_hypervisor_id", "hide_hypervisor_id", "img_hide_hypervisor_id"

CASES = (
    case(id="6f8988f1-51b2-436c-95da-91f19d9e1913", name="unset", description="Nothing set: the KVM signature is not hidden."),
    case(id="fb647640-f7c6-4252-b782-f385c11fe13e", since="21.0.0", name="flavor-true", description="hw:hide_hypervisor_id=true hides it.",
         extra_specs={FL: "true"}),
    case(id="f6386d41-0234-41c0-b949-c30ff5cf46df", name="legacy-true", description="The legacy un-namespaced key alone hides it.",
         extra_specs={LEGACY: "true"}),
    case(id="0080d959-e1bd-472e-a77f-a397a8d76c73", name="legacy-yes-upper", description="Legacy key with 'YES'.", extra_specs={LEGACY: "YES"}),
    case(id="5c2cfd56-09d7-4635-8068-16e1dc7f6d65", name="image-yes", description="Image img_hide_hypervisor_id=yes hides it.",
         image_properties={IM: "yes"}),
    case(id="8c9ebdd5-cf30-4252-a12e-932fa1b52271", name="flavor-false-legacy-true", description="OR: a false new key does not override a "
         "true legacy key.", extra_specs={FL: "false", LEGACY: "true"}),
    case(id="4caf9f0a-97dc-4c28-938f-7dd44bb12d08", since="21.0.0", name="flavor-true-legacy-false", description="OR: a false legacy key does not override "
         "a true new key.", extra_specs={FL: "true", LEGACY: "false"}),
    case(id="c12d53c0-3c8b-4c47-a406-51ae03074118", name="flavor-false-image-true", description="OR: image true wins over flavor false.",
         extra_specs={FL: "false"}, image_properties={IM: "true"}),
    case(id="4b38812c-2f48-43c2-818b-c1d16b4dbaca", since="21.0.0", name="image-false-flavor-true", description="OR: flavor true wins over image false.",
         extra_specs={FL: "1"}, image_properties={IM: "false"}),
    case(id="1e2642c2-6904-4937-bb5b-9d9a18f187aa", name="all-false", description="All three explicitly false: not hidden.",
         extra_specs={FL: "false", LEGACY: "no"}, image_properties={IM: "0"}),
    case(id="0a529d09-37c5-468e-a322-d0cf667bedfc", name="flavor-off", description="Explicit 'off' behaves like unset.", extra_specs={FL: "off"}),
    case(id="aa8ba72a-02df-4cd0-8e8f-2af9bbd23ad1", name="flavor-invalid", description="'maybe' is not boolean-like at the API.",
         extra_specs={FL: "maybe"}, expect_rejection="InvalidExtraSpec"),
    case(id="8e4055a6-db1f-4891-8851-fc886c44f069", name="legacy-invalid", description="The legacy key is validated too.",
         extra_specs={LEGACY: "maybe"}, expect_rejection="InvalidExtraSpec"),
    case(id="2dac45dc-e057-43c1-b509-08a01103ca09", name="image-unknown-string", description="Image booleans are lenient: 'maybe' is false.",
         image_properties={IM: "maybe"}),
    case(id="3793d1fc-ba96-419f-8425-ed631389e1ff", name="flavor-unknown-key", description="A misspelt hw: key is rejected.",
         extra_specs={"hw:hide_hypervisor": "true"}, expect_rejection="InvalidExtraSpec"),
    case(id="e6f30b0d-e58b-4eea-8bd9-4d7293949efd", since="21.0.0", name="windows-vendor-id", description="Windows guests also get the Hyper-V vendor_id "
         "spoof.", extra_specs={FL: "true"}, image_properties={"os_type": "windows"}),
    case(id="519826dc-3c26-4969-b13b-62c99a32a33d", name="windows-not-hidden", description="Windows guest without hiding.",
         image_properties={"os_type": "windows"}),
    case(id="7d1f8e92-9f39-47f7-a479-e51da259dad9", name="windows-upper-vendor-id", description="os_type 'WINDOWS' is not "
         "'windows': Nova compares the raw image property (driver.py:6895), so no Hyper-V vendor_id.", extra_specs={LEGACY: "true"},
         image_properties={"os_type": "WINDOWS"}),
    case(id="8ab20d23-cd89-4a6f-b23f-a985117e65d5", name="kvm-legacy", description="virt_type kvm with the legacy key.",
         extra_specs={LEGACY: "1"}, virt_type="kvm"),
)


# Lifecycle cases: judged on the domain a driver builds after the operation (protocol 2).
reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="a0cef416-ac6d-43c1-b40c-0a2ba01223cf", since="21.0.0", name="reboot-keeps", description="A hard reboot keeps the hidden signature.", extra_specs={FL: "true"}),
    reboot(id="de441526-4cb7-4943-893f-be2d14ba6a91", name="reboot-keeps-image-hiding", description="A hard reboot keeps the hiding that comes from "
           "the image's img_hide_hypervisor_id.", image_properties={IM: "true"}),
    stop_start(id="c265b9c1-45d3-4687-9398-f53313d12684", name="stop-start-keeps-image", description="Stop/start keeps the image's hiding.",
               image_properties={IM: "true"}),
    resize(id="501cd98e-4390-4ffb-836e-e2d369076045", since="21.0.0", name="resize-turns-on", description="Resize to a flavor hiding the hypervisor.", extra_specs={FL: "true"}),
    resize(id="ca410110-1a73-4b86-9629-892eef998e37", name="resize-turns-off", description="Resize to a flavor without the key: not hidden any more.",
           old_extra_specs={FL: "true"}),
    resize(id="0fdb5d87-ae94-4a80-8687-aa60f58c5cbe", name="resize-image-still-hides", description="The new flavor's false does not override the image's true.",
           old_extra_specs={FL: "true"}, extra_specs={FL: "false"}, image_properties={IM: "true"}),
    resize(id="2d71bc9d-59be-45c3-9eac-a08ab7484e32", name="resize-legacy-key", description="Resize to a flavor with the legacy hide_hypervisor_id key.",
           extra_specs={LEGACY: "true"}),
    rebuild(id="d4b7225a-17e2-4758-9db9-6cc267c01291", name="rebuild-turns-on", description="Rebuild to an image hiding the hypervisor.",
            image_properties={IM: "true"}),
    rebuild(id="5288026d-85fc-44bf-9402-0e2f2184fd1b", name="rebuild-turns-off", description="Rebuild to an image with img_hide_hypervisor_id=false.",
            old_image_properties={IM: "true"}, image_properties={IM: "false"}),
    rebuild(id="28484d46-5de4-49eb-84fb-3c618134c33d", since="21.0.0", name="rebuild-flavor-still-hides", description="Rebuild to an image without the key: the flavor still hides.",
            extra_specs={FL: "true"}, old_image_properties={IM: "true"}),
    resize(id="297b0a97-9956-4e1f-9c38-b7b2d33538b6", name="resize-invalid", description="A new flavor value that is not boolean-like: API rejects the resize.",
           extra_specs={FL: "maybe"}, expect_rejection="InvalidExtraSpec"),
)
