"""Realtime guests lock their memory implicitly (feature locked_memory): flavor
``hw:cpu_realtime`` with ``hw:cpu_policy=dedicated`` and a realtime mask (flavor
``hw:cpu_realtime_mask`` or image ``hw_cpu_realtime_mask``) adds ``<nosharepages/><locked/>``
and ``<vcpusched scheduler='fifo'>`` without any ``hw:locked_memory``; the named rejections
of ``numa_get_constraints`` and the scheduler (docs/reference-semantics.md, "Realtime")."""

from functools import partial

from conformance.catalogue.case import Case

# Two host CPUs for pinned vCPUs ([compute] cpu_dedicated_set), two vCPUs: one realtime.
HOST = {"cpu_dedicated_set": "0-1"}
case = partial(Case, feature="locked_memory", host=HOST, vcpus=2)
RT, MASK, POLICY = "hw:cpu_realtime", "hw:cpu_realtime_mask", "hw:cpu_policy"
IMASK, IPOLICY = "hw_cpu_realtime_mask", "hw_cpu_policy"
REALTIME = {POLICY: "dedicated", RT: "yes", MASK: "^0"}
PINNED = {POLICY: "dedicated"}

CASES = (
    case(id="8f74256d-1600-4307-abe4-2db38d9e3b6a", name="realtime-implies-locked", description="Realtime (dedicated, mask ^0): memory "
         "locked and unshared without hw:locked_memory; vCPU 1 SCHED_FIFO.", extra_specs=REALTIME),
    case(id="3b5590e5-8276-4ed7-b797-e20cd4331f4c", name="realtime-mask-explicit", description="Mask '1' names the realtime vCPU: the "
         "same guest as ^0.", extra_specs={**REALTIME, MASK: "1"}),
    case(id="f46e18b3-b7dd-4679-ba8d-8b1a50fc1abf", name="realtime-true-string", description="hw:cpu_realtime 'True' is realtime too.",
         extra_specs={**REALTIME, RT: "True"}),
    case(id="392524df-1e3e-41ee-8034-72365ca159b1", name="realtime-image-mask", description="No flavor mask, image hw_cpu_realtime_mask "
         "^0: realtime, locked.", extra_specs={POLICY: "dedicated", RT: "yes"},
         image_properties={IMASK: "^0"}),
    case(id="d951522a-d775-4532-91ef-5e3c3b512df5", name="realtime-image-mask-beats-flavor", description="The image mask (^0: vCPU 1) is "
         "used ahead of the flavor's ('0').", extra_specs={**REALTIME, MASK: "0"},
         image_properties={IMASK: "^0"}),
    case(id="a9ddaea2-3522-459c-99ab-dfceb540f89f", name="realtime-image-policy", description="The image's hw_cpu_policy=dedicated makes "
         "the realtime flavor pinned: locked.", extra_specs={RT: "yes", MASK: "^0"},
         image_properties={IPOLICY: "dedicated"}),
    case(id="310e1cdb-0a32-4ef8-ba86-79c6f34c2113", name="realtime-locked-false-still-locked", description="hw:locked_memory=false does "
         "not unlock a realtime guest (and needs no page size).",
         extra_specs={**REALTIME, "hw:locked_memory": "false"}),
    case(id="2864e2f2-e404-47c7-8767-c2ccc92c7d44", name="realtime-image-locked-false", description="Image hw_locked_memory=false: the "
         "realtime guest is locked all the same.", extra_specs=REALTIME,
         image_properties={"hw_locked_memory": "false"}),
    case(id="386e8eb4-3187-493a-a509-ae163091a1b9", name="realtime-locked-true-pages", description="Realtime and explicitly locked with "
         "page size small: locked.", extra_specs={**REALTIME, "hw:locked_memory": "true",
                                                  "hw:mem_page_size": "small"}),
    case(id="48734f3f-e04f-4447-9560-03687747ef52", since="26.0.0", name="realtime-locked-true-no-pages", description="Realtime does not lift the page "
         "size rule of an explicit hw:locked_memory=true.", extra_specs={**REALTIME, "hw:locked_memory": "true"},
         expect_rejection="LockMemoryForbidden"),
    case(id="59c679ee-c62c-4e6e-ac89-13bcbc703dea", name="realtime-pmu-off", description="Realtime with the vPMU off (the documentation's "
         "advice): locked, <pmu state='off'/>.", extra_specs={**REALTIME, "hw:pmu": "false"}),
    case(id="62c4ffde-edea-4141-9878-a0077024cd06", name="realtime-kvm", description="virt_type kvm: realtime, locked.", extra_specs=REALTIME,
         virt_type="kvm"),
    case(id="b5cf8992-08f4-4810-998b-0d9143e49501", name="pinned-not-realtime", description="Dedicated CPUs, hw:cpu_realtime=no: pinned, "
         "not locked.", extra_specs={**PINNED, RT: "no"}),
    case(id="19abaf11-a47a-42ac-8dfa-88dd69771504", name="realtime-no-mask", description="Every vCPU realtime (no mask) and no emulator "
         "threads policy.", extra_specs={POLICY: "dedicated", RT: "yes"},
         expect_rejection="RealtimeMaskNotFoundOrInvalid"),
    case(id="d1553466-7c24-4822-af2a-fc33ae187f93", name="realtime-mask-all", description="Mask 0-1 makes every vCPU realtime.",
         extra_specs={**REALTIME, MASK: "0-1"}, expect_rejection="RealtimeMaskNotFoundOrInvalid"),
    case(id="d31f6478-6c6a-41b2-8b90-40fe745040cc", name="realtime-mask-outside", description="Mask 1-2 names a vCPU the flavor lacks.",
         extra_specs={**REALTIME, MASK: "1-2"}, expect_rejection="RealtimeMaskNotFoundOrInvalid"),
    case(id="31a0bcae-0977-4026-ab18-b84759c669d2", name="realtime-not-pinned", description="Realtime without hw:cpu_policy.",
         extra_specs={RT: "yes", MASK: "^0"}, expect_rejection="RealtimeConfigurationInvalid"),
    case(id="e429d077-7037-4b24-b7d6-0d143161e705", name="realtime-shared-policy", description="Realtime with hw:cpu_policy=shared.",
         extra_specs={**REALTIME, POLICY: "shared"}, expect_rejection="RealtimeConfigurationInvalid"),
    case(id="7205fba3-7658-4339-af66-32d948023c8d", name="realtime-image-policy-forbidden", description="Image hw_cpu_policy=dedicated "
         "cannot override the flavor's shared.", extra_specs={**REALTIME, POLICY: "shared"},
         image_properties={IPOLICY: "dedicated"}, expect_rejection="ImageCPUPinningForbidden"),
    case(id="c1f365fc-4ff6-463b-b3f0-ed119a720cb5", name="realtime-invalid-boolean", description="hw:cpu_realtime 'maybe' is not "
         "boolean-like at the API.", extra_specs={**REALTIME, RT: "maybe"}, expect_rejection="InvalidExtraSpec"),
    case(id="c50283b0-89ef-4c07-b5e2-f65f1a5ac0ed", name="realtime-mask-malformed", description="A flavor mask outside the API pattern.",
         extra_specs={**REALTIME, MASK: "one"}, expect_rejection="InvalidExtraSpec"),
    case(id="a50aef0f-4d71-4390-bb37-c3d1995da472", name="mixed-without-realtime-mask", description="Policy mixed names neither "
         "realtime nor dedicated vCPUs.", extra_specs={POLICY: "mixed"},
         expect_rejection="RequiredMixedOrRealtimeCPUMask"),
    case(id="6130c9a7-7908-4fac-abbf-3ecedc8c3b20", name="realtime-host-without-dedicated", description="The host has no dedicated CPUs: "
         "no valid host.", extra_specs=REALTIME, host={}, expect_rejection="NoValidHost"),
    case(id="0538c8e7-dbc4-4786-a0c2-a3ce68c57814", name="realtime-host-one-dedicated", description="One dedicated host CPU for two "
         "pinned vCPUs: no valid host.", extra_specs=REALTIME, host={"cpu_dedicated_set": "0"},
         expect_rejection="NoValidHost"),
)

reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="669fcd1d-eb01-45b8-9e21-a9d0c7c971d4", name="reboot-keeps-realtime", description="A hard reboot keeps the realtime "
           "guest locked.", extra_specs=REALTIME),
    stop_start(id="0f1cef1a-c56b-4841-a6c7-52fc7a8adbe7", name="stop-start-keeps-realtime", description="Stop/start keeps the realtime "
               "guest locked.", extra_specs=REALTIME),
    resize(id="5be4e43a-ef60-4f34-ad96-12584619e279", name="resize-into-realtime", description="Resize a pinned guest to a realtime "
           "flavor: memory becomes locked.", old_extra_specs=PINNED, extra_specs=REALTIME),
    resize(id="e7a401a8-cb49-408d-932b-b6c65534f080", name="resize-out-of-realtime", description="Resize a realtime guest to a pinned, "
           "non-realtime flavor: memory is no longer locked.", old_extra_specs=REALTIME, extra_specs=PINNED),
    resize(id="3d5be0f7-2b70-49a6-b33d-ca6357394652", name="resize-into-realtime-no-mask", description="The new realtime flavor has no "
           "mask.", old_extra_specs=PINNED, extra_specs={POLICY: "dedicated", RT: "yes"},
           expect_rejection="RealtimeMaskNotFoundOrInvalid"),
    resize(id="ba0f2c17-6b93-4953-bf2f-c10e03ce876a", name="resize-realtime-to-one-vcpu", description="Resize from two vCPUs to a one-vCPU "
           "realtime flavor: its only vCPU cannot be realtime.", old_extra_specs=PINNED,
           extra_specs={POLICY: "dedicated", RT: "yes"}, vcpus=1, old_vcpus=2,
           expect_rejection="RealtimeMaskNotFoundOrInvalid"),
    rebuild(id="9e018306-4e63-40fa-b689-783bdd440f3e", name="rebuild-image-moves-mask", description="Rebuild to an image with mask ^1: "
            "vCPU 0 becomes the realtime one, still locked.", extra_specs=REALTIME,
            image_properties={IMASK: "^1"}),
    rebuild(id="a145bc41-83c0-4035-be6c-d599df31f6e2", name="rebuild-image-drops-policy", description="The old image made the guest "
            "pinned; the new one does not: realtime without pinning.", extra_specs={RT: "yes", MASK: "^0"},
            old_image_properties={IPOLICY: "dedicated"}, expect_rejection="RealtimeConfigurationInvalid"),
)
