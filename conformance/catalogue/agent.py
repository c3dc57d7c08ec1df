"""Guest agent cases: image ``hw_qemu_guest_agent`` (boolean-like, lenient, default off)."""

from functools import partial

from conformance.catalogue.case import Case

case = partial(Case, feature="agent")
GA = "hw_qemu_guest_agent"

CASES = (
    case(id="d2d93c9e-4c1b-4deb-b1e5-afd4a25dd60a", name="unset", description="No agent property: no agent channel."),
    case(id="a81c5eb3-9125-4132-8aa6-2aaba2c29c7c", name="yes", description="hw_qemu_guest_agent=yes adds the virtio agent channel.",
         image_properties={GA: "yes"}),
    case(id="c94eaaa8-d32d-400b-87c2-c24a0e824727", name="true-capitalised", description="'True' is a true boolean spelling.",
         image_properties={GA: "True"}),
    case(id="e985aa26-0b60-46db-8db9-a092a289da49", name="one", description="'1' is a true boolean spelling.", image_properties={GA: "1"}),
    case(id="5761a51d-9ddd-46e4-ba2b-39d598685a61", name="on", description="'on' is a true boolean spelling.", image_properties={GA: "on"}),
    case(id="12757989-bfa4-49fc-9260-25140c9caa11", name="y", description="'y' is a true boolean spelling.", image_properties={GA: "y"}),
    case(id="dd6ed55e-d745-4ccf-8ddc-347bfc8d597f", name="t", description="'t' is a true boolean spelling.", image_properties={GA: "t"}),
    case(id="9b558df2-a86a-407c-a14a-0204364e1ce1", name="yes-upper", description="Boolean spellings are case-insensitive ('YES').",
         image_properties={GA: "YES"}),
    case(id="b31918d0-f57c-4116-a067-d319a62b5ea3", name="padded", description="Surrounding whitespace is ignored (' yes ').",
         image_properties={GA: " yes "}),
    case(id="1d58b2bc-09aa-4706-98f2-12d042ee2f10", name="no", description="'no' is an explicit false: no channel.", image_properties={GA: "no"}),
    case(id="cea78cf7-8c88-4185-923c-b49145bc760d", name="false-upper", description="'FALSE' is an explicit false: no channel.",
         image_properties={GA: "FALSE"}),
    case(id="e211eca9-c98d-4946-9f01-1e52bb1351fc", name="zero", description="'0' is an explicit false: no channel.", image_properties={GA: "0"}),
    case(id="2c5cdf0a-cc39-496a-8ac7-4d393dd3ca6e", name="off", description="'off' is an explicit false: no channel.", image_properties={GA: "off"}),
    case(id="28e22587-9b2a-4dc8-8fd2-2a98c1cd9bb3", name="unknown-string", description="Image booleans are lenient: 'maybe' means false, "
         "not a rejection.", image_properties={GA: "maybe"}),
    case(id="ee5c7d42-a5bc-401c-a929-99e685d09ce2", name="empty-string", description="An empty value means false.", image_properties={GA: ""}),
    case(id="ea54e4c9-1500-4a3a-acec-cdf011ba2124", name="kvm", description="The channel is added for virt_type kvm too.",
         image_properties={GA: "yes"}, virt_type="kvm"),
    case(id="cbbb2ae9-31ff-49bc-afac-5ef0dde34176", name="flavor-key-ignored", description="The agent is an image property only: the same "
         "key as an un-namespaced flavor extra spec does nothing.", extra_specs={GA: "yes"}),
    case(id="2b7f68d5-a2ec-45c1-8d25-2f5c286fb24f", name="flavor-namespaced-unknown", description="'hw:qemu_guest_agent' is not a known hw: "
         "extra spec: API validation rejects it.", extra_specs={"hw:qemu_guest_agent": "yes"},
         expect_rejection="InvalidExtraSpec"),
    case(id="9c764cbc-0083-4696-9658-465ec90b737f", name="windows", description="Windows guests get the same agent channel.",
         image_properties={GA: "yes", "os_type": "windows"}),
    case(id="23f323fd-65c9-4c86-a68c-d783303f2b37", name="with-watchdog", description="The agent channel coexists with a watchdog.",
         image_properties={GA: "yes"}, extra_specs={"hw:watchdog_action": "reset"}),
    case(id="a5c62c83-d700-4d83-afd0-18733f6e335c", name="xenapi-agent-not-qemu-agent", description="The legacy "
         "xenapi_use_agent (img_use_agent) is a different agent: no qemu guest agent channel.",
         image_properties={"xenapi_use_agent": "true", "img_use_agent": "true"}),
    case(id="755f14ff-8626-4401-b7e1-7e60e21e344a", name="bad-other-property", description="An invalid image property elsewhere rejects "
         "the whole image.", image_properties={GA: "yes", "hw_rng_model": "bogus"},
         expect_rejection="InvalidImageProperty"),
)


# Lifecycle cases: judged on the domain a driver builds after the operation (protocol 2).
reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="5ce7b804-cd32-4d45-92e3-cb96b6b99b29", name="reboot-keeps", description="A hard reboot keeps the agent channel.", image_properties={GA: "yes"}),
    stop_start(id="f1e0e2c7-fa05-4af0-835c-a1b7fa4b0ae4", name="stop-start-keeps", description="Stop/start keeps the agent channel.", image_properties={GA: "yes"}),
    stop_start(id="ded4a4b4-b9dc-42a9-8615-d59629100c1b", name="stop-start-off-stays-off", description="Stop/start of an instance without agent adds none."),
    rebuild(id="945a121b-634a-4073-8973-02c945cd7985", name="rebuild-turns-on", description="Rebuild to an image with the agent: the channel appears.",
            image_properties={GA: "yes"}),
    rebuild(id="86947a84-dd09-4c33-8251-5f4a4bb382a1", name="rebuild-turns-off", description="Rebuild to an image without the agent: the channel is gone.",
            old_image_properties={GA: "yes"}),
    rebuild(id="66594739-f5e9-4706-bb60-62352cff7167", name="rebuild-lenient-off", description="Rebuild to an image with 'maybe' (lenient boolean: false): no channel.",
            old_image_properties={GA: "yes"}, image_properties={GA: "maybe"}),
    resize(id="1fe7a442-e29e-46e3-95ac-157f8d155b7a", name="resize-keeps-image-agent", description="Resize changes the flavor only: the image's agent stays.",
           extra_specs={"hw:watchdog_action": "reset"}, image_properties={GA: "yes"}),
    resize(id="b4df65e9-f22a-47c6-8bb8-95226f83a92e", name="resize-flavor-key-invalid", description="The agent is an image property: a new flavor with "
           "'hw:qemu_guest_agent' is refused by the API.", extra_specs={"hw:qemu_guest_agent": "yes"},
           image_properties={GA: "yes"}, expect_rejection="InvalidExtraSpec"),
    rebuild(id="a01c7e17-7830-44f3-8289-f18b72e97a0d", name="rebuild-other-property-invalid", description="A new image with an invalid hw_rng_model: invalid image "
            "metadata.", old_image_properties={GA: "yes"}, image_properties={GA: "yes", "hw_rng_model": "bogus"},
            expect_rejection="InvalidImageProperty"),
)
