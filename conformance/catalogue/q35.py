"""Every feature on machine type q35 (image ``hw_machine_type=q35`` or the host's
``[libvirt] hw_machine_type``). On q35 the i6300esb sits behind a PCIe-to-PCI bridge and
virtio devices on PCIe root ports; libvirt 9.1 and later also give a q35 domain an implicit
iTCO watchdog (action copied from the first watchdog, else reset), which the live checks
expect from such a libvirt and do not hold against the driver."""

from functools import partial

from conformance.catalogue.case import Case

Q35 = {"hw_machine_type": "q35"}
HOST_Q35 = {"hw_machine_type": "q35"}
WD = "hw:watchdog_action"


def q35(feature: str, **kwargs) -> Case:
    kwargs["image_properties"] = {**Q35, **kwargs.get("image_properties", {})}
    return Case(feature=feature, **kwargs)


CASES = (
    q35("watchdog", id="09c7cb1b-bc72-4659-bb44-de962e2121b0", name="q35-reset", description="q35: the i6300esb fires and resets the guest.",
        extra_specs={WD: "reset"}),
    q35("watchdog", id="95d6444e-642a-4f34-90ce-45fdcbab2cc0", name="q35-pause", description="q35: the i6300esb fires and pauses the guest.",
        extra_specs={WD: "pause"}),
    q35("watchdog", id="8395cafe-498d-4a56-a058-36cdb7be315d", name="q35-poweroff", description="q35: the i6300esb fires and powers the "
        "guest off.", extra_specs={WD: "poweroff"}),
    q35("watchdog", id="9d74768b-be49-4dbd-9633-10bc58711fa9", name="q35-none", description="q35, action none: the device, no action.",
        extra_specs={WD: "none"}),
    q35("watchdog", id="0d55b289-7c73-4173-8f09-a9d2d5468be6", since="15.0.0", name="q35-disabled", description="q35, watchdog disabled: the driver adds "
        "none (libvirt >= 9.1 adds its implicit iTCO by itself).", extra_specs={WD: "disabled"}),
    q35("watchdog", id="db1fb92d-46e2-4ba1-9027-ab504182d85a", name="q35-image-action", description="q35: the image's 'pause' beats the "
        "flavor's 'reset'.", extra_specs={WD: "reset"}, image_properties={"hw_watchdog_action": "pause"}),
    Case(feature="watchdog", id="01ad3a41-2310-432d-b1a1-55b83cefca3d", name="host-default-q35-reset", description="No image machine "
         "type, the host's hw_machine_type is q35: a q35 guest with the i6300esb.",
         extra_specs={WD: "reset"}, host=HOST_Q35),
    Case(feature="watchdog", id="a79a938b-af55-4f5a-8bf7-16a8958914b4", name="image-pc-beats-host-q35", description="The image's pc beats "
         "the host's q35 default.", extra_specs={WD: "reset"}, image_properties={"hw_machine_type": "pc"},
         host=HOST_Q35),
    q35("agent", id="b0cb4cec-ab51-485c-97ef-802dd77dfed1", name="q35-yes", description="q35: the agent channel on a PCIe virtio-serial.",
        image_properties={"hw_qemu_guest_agent": "yes"}),
    q35("agent", id="14d1b1e5-0986-416f-b7b7-cb56b3d8f833", name="q35-no", description="q35 without the agent: no channel.",
        image_properties={"hw_qemu_guest_agent": "no"}),
    q35("rng", id="21f055fd-56be-40cb-8f01-62f3255549f9", since="21.0.0", name="q35-rate", description="q35: a rate-limited virtio RNG on a PCIe root port.",
        extra_specs={"hw_rng:rate_bytes": "4096", "hw_rng:rate_period": "1000"}),
    q35("rng", id="0503dec4-4318-425b-83ae-6dfa484aa8be", name="q35-disallowed", description="q35, hw_rng:allowed=false: no RNG.",
        extra_specs={"hw_rng:allowed": "false"}),
    q35("pmu", id="23bc40d6-b902-4cf2-a115-f83f80e4c273", since="20.0.0", name="q35-off", description="q35: the vPMU off.", extra_specs={"hw:pmu": "false"}),
    q35("pmu", id="851e2d2b-d6b8-4555-a1ab-8738d361e72a", since="20.0.0", name="q35-on", description="q35: the vPMU on.", image_properties={"hw_pmu": "true"}),
    q35("hidden_hypervisor", id="63e31b88-c4ba-413e-a299-074323842824", since="21.0.0", name="q35-hidden", description="q35: the KVM signature hidden.",
        extra_specs={"hw:hide_hypervisor_id": "true"}),
    q35("locked_memory", id="5f15174d-bd2d-4db0-af24-721f8c3aba3a", since="26.0.0", name="q35-locked", description="q35: explicitly locked with page size "
        "small.", extra_specs={"hw:locked_memory": "true", "hw:mem_page_size": "small"}),
)

LIFECYCLE = (
    Case(feature="watchdog", operation="rebuild", id="62321b77-9eff-466d-b337-d0207889b91f", name="rebuild-onto-q35-image",
         description="Rebuild a pc guest onto a q35 image: the i6300esb and its action on q35.",
         extra_specs={WD: "reset"}, image_properties=Q35),
    Case(feature="watchdog", operation="rebuild", id="670f2519-9402-4806-9f29-a993d83ddbfe", since="15.0.0", name="rebuild-q35-image-disabled",
         description="Rebuild onto a q35 image that disables the watchdog: none on q35.",
         extra_specs={WD: "reset"}, image_properties={**Q35, "hw_watchdog_action": "disabled"}),
    q35("watchdog", operation="reboot", id="b16354d7-50b3-480d-95cb-9ab7a00335d2", name="reboot-q35-keeps", description="A hard reboot of "
        "a q35 guest keeps its watchdog.", extra_specs={WD: "pause"}),
    q35("watchdog", operation="resize", id="ade88d30-d011-4b32-ad00-e5fda95b2a60", name="resize-q35-changes-action", description="Resize "
        "a q35 guest from 'reset' to 'poweroff'.", old_extra_specs={WD: "reset"}, extra_specs={WD: "poweroff"}),
    Case(feature="agent", operation="rebuild", id="7d00749e-2eeb-4ee7-adaf-6884e2192112", name="rebuild-onto-q35-image",
         description="Rebuild onto a q35 image with the agent.",
         image_properties={**Q35, "hw_qemu_guest_agent": "yes"}),
    q35("rng", operation="resize", id="ee1859b7-ca7a-4215-a1f3-e8d25496a301", since="21.0.0", name="resize-q35-rate", description="Resize a q35 guest to "
        "a rate-limited RNG.", extra_specs={"hw_rng:rate_bytes": "2048", "hw_rng:rate_period": "1000"}),
)
