"""Memory encryption (AMD SEV, SEV-ES, SEV-SNP) where it touches the six features: SEV and
SEV-ES guests lock their memory implicitly, even when the flavor or image says
``locked_memory=false``; SEV-SNP guests do not (34.0.0); before 34.0.0 the guest agent gets an
explicit virtio-serial controller and the RNG ``<driver iommu='on'/>``. The host offers
memory encryption through ``host.mem_encryption_models``; SEV needs q35 and UEFI
(docs/reference-semantics.md, "Memory encryption"). The domain is judged at level xml only:
no host here has SEV."""

from functools import partial

from conformance.catalogue.case import Case

SEV_HOST = {"mem_encryption_models": ("amd-sev", "amd-sev-es")}
SNP_HOST = {"mem_encryption_models": ("amd-sev", "amd-sev-snp")}
Q35_UEFI = {"hw_machine_type": "q35", "hw_firmware_type": "uefi"}
SNP_IMAGE = {**Q35_UEFI, "hw_firmware_stateless": "true"}
ENC, MODEL, IENC, IMODEL = "hw:mem_encryption", "hw:mem_encryption_model", "hw_mem_encryption", "hw_mem_encryption_model"
SEV = {ENC: "true"}

locked = partial(Case, feature="locked_memory", host=SEV_HOST, virt_type="kvm", image_properties=Q35_UEFI)
agent = partial(Case, feature="agent", host=SEV_HOST, virt_type="kvm")
rng = partial(Case, feature="rng", host=SEV_HOST, virt_type="kvm", image_properties=Q35_UEFI)

CASES = (
    locked(id="b60ad2d8-54ec-49dd-aa7b-278caad3752d", changes=('sev-no-iommu',), name="sev-implies-locked", description="hw:mem_encryption=true (q35, UEFI): memory "
           "locked without hw:locked_memory.", extra_specs=SEV),
    locked(id="335d7ad6-b7ef-4800-8581-843718292001", changes=('sev-no-iommu',), name="sev-image-requests", description="Image hw_mem_encryption=true: locked.",
           image_properties={**Q35_UEFI, IENC: "yes"}),
    locked(id="cdb58309-7795-434e-9c2b-684c9d555e69", changes=('sev-no-iommu',), name="sev-flavor-locked-false", description="A SEV flavor that says "
           "hw:locked_memory=false is locked all the same, without error.",
           extra_specs={**SEV, "hw:locked_memory": "false"}),
    locked(id="ae57d86a-b06e-4562-84cd-abf8de78c410", changes=('sev-no-iommu',), name="sev-image-locked-false", description="Image hw_locked_memory=false under a SEV "
           "flavor: locked, without error.", extra_specs=SEV,
           image_properties={**Q35_UEFI, "hw_locked_memory": "false"}),
    locked(id="c8ca61df-1250-4e5d-9d62-cbc329119de4", changes=('sev-no-iommu',), name="sev-locked-true-pages", description="SEV and explicitly locked (page size "
           "small): locked.", extra_specs={**SEV, "hw:locked_memory": "true", "hw:mem_page_size": "small"}),
    locked(id="6eaf31f2-7517-469d-b60f-9064ec3b9d11", since="26.0.0", name="sev-locked-conflict", description="Flavor and image disagree on locked "
           "memory: the conflict comes before SEV.", extra_specs={**SEV, "hw:locked_memory": "true",
                                                                 "hw:mem_page_size": "small"},
           image_properties={**Q35_UEFI, "hw_locked_memory": "false"},
           expect_rejection="FlavorImageLockedMemoryConflict"),
    locked(id="048e604a-ff2d-4802-9d34-1afa9556a74a", changes=('sev-es-model', 'sev-no-iommu'), name="sev-es-locked", description="Model amd-sev-es: locked like SEV.",
           extra_specs={**SEV, MODEL: "amd-sev-es"}),
    locked(id="a7869737-195b-42f6-8e4b-f9f2e387c4e3", changes=('sev-es-model', 'sev-snp', 'sev-no-iommu', 'sev-locked-constraint'), name="sev-snp-not-locked", description="Model amd-sev-snp (stateless UEFI): no "
           "<locked/> (34.0.0; before, not a valid model).", extra_specs={**SEV, MODEL: "amd-sev-snp"},
           image_properties=SNP_IMAGE, host=SNP_HOST),
    locked(id="253ac842-99e2-489b-834c-9085b11edceb", changes=('sev-es-model', 'sev-snp', 'sev-no-iommu', 'sev-locked-constraint'), name="sev-snp-image-model", description="Image hw_mem_encryption_model=amd-sev-snp: "
           "not locked (34.0.0; before, invalid image metadata).", extra_specs=SEV,
           image_properties={**SNP_IMAGE, IMODEL: "amd-sev-snp"}, host=SNP_HOST),
    locked(id="ea57d772-6b60-4931-9032-5b678abfe510", since="26.0.0", changes=('sev-es-model', 'sev-snp', 'sev-no-iommu'), name="sev-snp-locked-explicitly", description="SNP with hw:locked_memory=true and a "
           "page size: locked because asked.", extra_specs={**SEV, MODEL: "amd-sev-snp",
                                                            "hw:locked_memory": "true", "hw:mem_page_size": "small"},
           image_properties=SNP_IMAGE, host=SNP_HOST),
    locked(id="3d8a9cce-8e81-4a26-8069-51cfa0dc94ca", changes=('sev-es-model', 'sev-snp'), name="sev-snp-not-stateless", description="SNP without hw_firmware_stateless: "
           "StatelessFirmwareRequired (34.0.0).", extra_specs={**SEV, MODEL: "amd-sev-snp"}, host=SNP_HOST,
           expect_rejection="StatelessFirmwareRequired"),
    locked(id="a959fd99-de86-473c-b03b-57b26c90cb7c", changes=('sev-no-iommu',), name="sev-host-default-q35", description="No image machine type, the host's "
           "hw_machine_type is q35: locked.", extra_specs=SEV, image_properties={"hw_firmware_type": "uefi"},
           host={**SEV_HOST, "hw_machine_type": "q35"}),
    locked(id="2f1902df-e442-4121-992d-ac0fdc285f9a", name="sev-flavor-false", description="hw:mem_encryption=false: neither encrypted "
           "nor locked.", extra_specs={ENC: "false"}),
    locked(id="0840b3ca-7d23-4a3f-ac0b-98e638078499", name="sev-without-uefi", description="SEV without hw_firmware_type=uefi.",
           extra_specs=SEV, image_properties={"hw_machine_type": "q35"}, expect_rejection="FlavorImageConflict"),
    locked(id="67bd9657-ca2e-43cf-ad07-cf8a69a529a9", name="sev-pc-machine", description="The image asks for machine type pc.",
           extra_specs=SEV, image_properties={**Q35_UEFI, "hw_machine_type": "pc"},
           expect_rejection="InvalidMachineType"),
    locked(id="3c499379-9392-4893-8548-b3126e6bb3b2", name="sev-host-default-pc", description="No image machine type, the host's default "
           "is pc: the driver refuses.", extra_specs=SEV, image_properties={"hw_firmware_type": "uefi"},
           expect_rejection="InvalidMachineType"),
    locked(id="efc3ed18-0b20-4524-b867-a59129152c1c", name="sev-flavor-image-conflict", description="Flavor true, image hw_mem_encryption "
           "false.", extra_specs=SEV, image_properties={**Q35_UEFI, IENC: "no"},
           expect_rejection="FlavorImageConflict"),
    locked(id="e33fe219-6bc0-459b-bc1d-2678a9593e74", changes=('sev-es-model',), name="sev-model-conflict", description="Flavor model amd-sev, image model "
           "amd-sev-es.", extra_specs={**SEV, MODEL: "amd-sev"},
           image_properties={**Q35_UEFI, IMODEL: "amd-sev-es"}, expect_rejection="FlavorImageConflict"),
    locked(id="12a36113-83a1-42a2-b958-1ec390147b5f", name="sev-host-without-sev", description="The host offers no memory encryption: no "
           "valid host.", extra_specs=SEV, host={}, expect_rejection="NoValidHost"),
    locked(id="5f822ff8-4f2c-4856-9d2b-dd7020c836ff", changes=('sev-es-model',), name="sev-es-host-sev-only", description="SEV-ES on a host offering SEV only.",
           extra_specs={**SEV, MODEL: "amd-sev-es"}, host={"mem_encryption_models": ("amd-sev",)},
           expect_rejection="NoValidHost"),
    agent(id="20c53278-491f-456f-940f-dae3b8703ff2", changes=('sev-no-iommu',), name="sev-agent", description="The agent channel of a SEV guest (before 34.0.0 with "
          "an explicit virtio-serial controller, iommu on).", extra_specs=SEV,
          image_properties={**Q35_UEFI, "hw_qemu_guest_agent": "yes"}),
    agent(id="ff701d21-d108-4a59-9fb0-552dce623570", changes=('sev-no-iommu',), name="sev-no-agent", description="A SEV guest without the agent: no channel, no "
          "controller.", extra_specs=SEV, image_properties=Q35_UEFI),
    rng(id="efe2909e-1b0b-4084-bc59-9dbf4f95440e", since="21.0.0", changes=('sev-no-iommu',), name="sev-rng", description="The RNG of a SEV guest (before 34.0.0 <driver iommu='on'/>).",
        extra_specs=SEV),
    rng(id="622f9ddb-9955-478d-b70e-7b7e18c944b3", since="21.0.0", changes=('sev-no-iommu',), name="sev-rng-rate", description="A rate-limited RNG of a SEV guest.",
        extra_specs={**SEV, "hw_rng:rate_bytes": "1024", "hw_rng:rate_period": "1000"}),
    rng(id="5696ffa6-0e6c-4d5e-af58-9d802b8883d5", name="sev-rng-disallowed", description="hw_rng:allowed=false on a SEV guest: no RNG.",
        extra_specs={**SEV, "hw_rng:allowed": "false"}),
)

reboot, resize, rebuild = (partial(locked, operation=op) for op in ("reboot", "resize", "rebuild"))

LIFECYCLE = (
    reboot(id="46acefff-4f86-46ff-9015-06ec91a1ce10", changes=('sev-no-iommu',), name="reboot-sev-keeps-locked", description="A hard reboot keeps a SEV guest "
           "locked.", extra_specs=SEV),
    resize(id="ecedd8ae-d313-4d63-b2de-e1e60bf51461", changes=('sev-no-iommu',), name="resize-sev-flavor-locked-false", description="Resize to a SEV flavor saying "
           "hw:locked_memory=false: still locked.", old_extra_specs=SEV,
           extra_specs={**SEV, "hw:locked_memory": "false"}),
    resize(id="10f3b2da-c8de-4834-a409-bed8c1dcfe7f", changes=('sev-no-iommu',), name="resize-into-sev", description="Resize to a SEV flavor: memory becomes locked.",
           extra_specs=SEV),
    resize(id="bf79e6e7-2166-404f-a6bf-a3d584dc5341", name="resize-out-of-sev", description="Resize to a flavor without memory "
           "encryption: no longer locked.", old_extra_specs=SEV),
    resize(id="fa57daf6-48b4-4599-8f4a-9ca15c4dad67", changes=('sev-es-model', 'sev-snp', 'sev-no-iommu', 'sev-locked-constraint'), name="resize-sev-to-snp", description="Resize to a SEV-SNP flavor: no longer locked "
           "(34.0.0; before, not a valid model).", old_extra_specs=SEV, extra_specs={**SEV, MODEL: "amd-sev-snp"},
           image_properties=SNP_IMAGE, host=SNP_HOST),
    rebuild(id="7a3f8cf8-9c91-49a0-be41-d70079b640c8", changes=('sev-no-iommu',), name="rebuild-onto-sev-image", description="Rebuild to an image asking for memory "
            "encryption: locked.", image_properties={**Q35_UEFI, IENC: "true"}),
    rebuild(id="8eafde0c-4653-4e1e-bdd9-d28eb79a97a6", changes=('sev-no-iommu',), name="rebuild-sev-image-locked-false", description="Rebuild to a SEV image that "
            "says hw_locked_memory=false: locked all the same.",
            image_properties={**Q35_UEFI, IENC: "true", "hw_locked_memory": "false"}),
)
