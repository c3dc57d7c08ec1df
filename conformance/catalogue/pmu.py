"""vPMU cases: flavor ``hw:pmu`` and image ``hw_pmu`` (must agree; unset = no element)."""

from functools import partial

from conformance.catalogue.case import Case

case = partial(Case, feature="pmu")
FL, IM = "hw:pmu", "hw_pmu"

CASES = (
    case(id="b84f83e6-989f-44ea-8944-96cec4692215", name="unset", description="Neither set: no <pmu> element."),
    case(id="277f11c8-f142-447b-abc4-19742aee1be3", since="20.0.0", name="flavor-true", description="Flavor true: <pmu state='on'/>.", extra_specs={FL: "true"}),
    case(id="13ab2351-c375-4cd2-8e6b-03e5479dfd10", since="20.0.0", name="flavor-false", description="Flavor explicit false: <pmu state='off'/>, unlike unset.",
         extra_specs={FL: "false"}),
    case(id="b6db6012-ae33-459b-970f-f5b92c4f1161", since="20.0.0", name="flavor-false-upper", description="'FALSE' spelling.", extra_specs={FL: "FALSE"}),
    case(id="2ea2d47c-7aea-4f91-9c52-b6715f7ce034", since="20.0.0", name="flavor-one", description="'1' spelling.", extra_specs={FL: "1"}),
    case(id="d5c41a43-45c0-4a5d-92f5-57af68ee2904", since="20.0.0", name="image-yes", description="Image yes: pmu on.", image_properties={IM: "yes"}),
    case(id="a03a2ed3-125c-4d88-bd04-2d612fbaa9eb", since="20.0.0", name="image-no", description="Image no: pmu off.", image_properties={IM: "no"}),
    case(id="50a72285-6c62-4b7f-90b5-888f1f705071", since="20.0.0", name="image-unknown-string", description="Image booleans are lenient: 'maybe' is an "
         "explicit false (pmu off).", image_properties={IM: "maybe"}),
    case(id="4a6b3822-d927-476e-9c53-8cc99451cf8b", since="20.0.0", name="both-on", description="Flavor and image agree on true.",
         extra_specs={FL: "on"}, image_properties={IM: "true"}),
    case(id="4f444948-9808-4966-8184-8f341a0730ff", since="20.0.0", name="both-off", description="Flavor and image agree on false.",
         extra_specs={FL: "off"}, image_properties={IM: "0"}),
    case(id="d0704738-7e63-4472-9888-42ec799e3f7e", since="20.0.0", name="conflict-flavor-on", description="Flavor true, image false: FlavorImageConflict.",
         extra_specs={FL: "true"}, image_properties={IM: "false"}, expect_rejection="FlavorImageConflict"),
    case(id="bd4e73bf-d0d7-4963-9690-078b3e6b4ea9", since="20.0.0", name="conflict-flavor-off", description="Flavor false, image true: FlavorImageConflict.",
         extra_specs={FL: "false"}, image_properties={IM: "true"}, expect_rejection="FlavorImageConflict"),
    case(id="a0bc8a61-35af-4032-ae1d-af544463efec", since="20.0.0", name="conflict-lenient-image", description="Image 'maybe' counts as false and conflicts "
         "with flavor true.", extra_specs={FL: "yes"}, image_properties={IM: "maybe"},
         expect_rejection="FlavorImageConflict"),
    case(id="ab34feb0-0113-4b5a-9b50-945eecd776d4", name="flavor-invalid", description="'maybe' is not boolean-like at the API.",
         extra_specs={FL: "maybe"}, expect_rejection="InvalidExtraSpec"),
    case(id="d19e28ce-50fd-47fd-b41e-fe6839dd40a2", name="flavor-unknown-key", description="A misspelt hw: key is rejected.",
         extra_specs={"hw:pmu_enabled": "true"}, expect_rejection="InvalidExtraSpec"),
    case(id="182f5b40-3aa4-4569-8243-82ba22443d63", since="20.0.0", name="kvm-on", description="virt_type kvm, flavor true.", extra_specs={FL: "true"},
         virt_type="kvm"),
    case(id="276236d4-79e4-4903-ac36-f6293f14c77c", since="20.0.0", name="kvm-image-off", description="virt_type kvm, image false.",
         image_properties={IM: "off"}, virt_type="kvm"),
)


# Lifecycle cases: judged on the domain a driver builds after the operation (protocol 2).
reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="595ab0b4-1e1a-4775-9a57-268a814e4722", since="20.0.0", name="reboot-keeps-on", description="A hard reboot keeps <pmu state='on'/>.", extra_specs={FL: "true"}),
    stop_start(id="053487f0-86eb-425e-9048-818e279c395d", since="20.0.0", name="stop-start-keeps-off", description="Stop/start keeps <pmu state='off'/>.", extra_specs={FL: "false"}),
    resize(id="83eafcdc-d411-423d-aa1c-5a9006c291b9", since="20.0.0", name="resize-changes-on-to-off", description="Resize from pmu on to off.", old_extra_specs={FL: "true"},
           extra_specs={FL: "false"}),
    resize(id="f4700c7f-3d7d-499d-8580-834eb6c3db00", name="resize-removes", description="Resize to a flavor without hw:pmu: no <pmu> element.",
           old_extra_specs={FL: "true"}),
    resize(id="efc04bfd-adb0-4720-902d-6804364f1f13", since="20.0.0", name="resize-conflict-with-image", description="The new flavor's pmu off conflicts with the image's on.",
           extra_specs={FL: "false"}, image_properties={IM: "true"}, expect_rejection="FlavorImageConflict"),
    resize(id="154ff5fc-e3f4-4b14-b17e-02bb108ef79b", since="20.0.0", name="resize-pmu-before-locked-memory", description="Resize runs the PMU check before numa_get_constraints: "
           "FlavorImageConflict, where create reports LockMemoryForbidden.",
           extra_specs={FL: "false", "hw:locked_memory": "true"}, image_properties={IM: "true"},
           expect_rejection="FlavorImageConflict"),
    rebuild(id="b0593058-3c26-4998-94d5-dc33991dd146", since="20.0.0", name="rebuild-image-turns-on", description="Rebuild to an image with hw_pmu=true: <pmu state='on'/>.",
            image_properties={IM: "true"}),
    rebuild(id="577705b0-6ca5-4a4a-b6c8-f06bb052aa97", since="20.0.0", name="rebuild-image-turns-off", description="Rebuild from hw_pmu=true to false: <pmu state='off'/>.",
            old_image_properties={IM: "true"}, image_properties={IM: "false"}),
    rebuild(id="c697f338-c457-40db-9fc0-dfff03071fc9", since="20.0.0", name="rebuild-conflict", description="The new image's pmu off conflicts with the flavor's on.",
            extra_specs={FL: "true"}, old_image_properties={IM: "true"}, image_properties={IM: "false"},
            expect_rejection="FlavorImageConflict"),
    rebuild(id="24a2b0dd-9967-4776-ab4e-c926777cca20", since="20.0.0", name="rebuild-pmu-before-page-size", description="Rebuild runs the PMU check before the page size check: "
            "FlavorImageConflict, where create reports MemoryPageSizeForbidden.", extra_specs={FL: "true"},
            image_properties={IM: "false", "hw_mem_page_size": "large"}, expect_rejection="FlavorImageConflict"),
)
