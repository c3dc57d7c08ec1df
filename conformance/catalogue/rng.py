"""RNG cases: flavor ``hw_rng:allowed`` (default true), ``hw_rng:rate_bytes``/``rate_period``,
image ``hw_rng_model``, host ``rng_dev_path``."""

from functools import partial

from conformance.catalogue.case import Case

case = partial(Case, feature="rng")
AL, RB, RP = "hw_rng:allowed", "hw_rng:rate_bytes", "hw_rng:rate_period"

CASES = (
    case(id="76668c91-32d7-4f97-bc0d-bdf49fdc7c26", since="21.0.0", name="default-on", description="Nothing set: a virtio RNG on /dev/urandom, no rate."),
    case(id="578c0433-11c2-43bb-a743-da75cbda5d76", since="21.0.0", name="allowed-true", description="hw_rng:allowed=true: device present.",
         extra_specs={AL: "true"}),
    case(id="15e18d30-e034-44f4-be45-5a3670440485", since="21.0.0", name="allowed-yes-upper", description="'YES' is a true spelling.", extra_specs={AL: "YES"}),
    case(id="a1b086b7-d5d9-4774-b560-bf7b5e03e00b", name="allowed-false-capitalised", description="'False': no RNG device.",
         extra_specs={AL: "False"}),
    case(id="f3e80846-30c8-4c38-960e-6908b62b4107", name="allowed-no", description="'no': no RNG device.", extra_specs={AL: "no"}),
    case(id="53edc038-6fdf-48d3-8fc5-93bebbd10511", name="allowed-zero", description="'0': no RNG device.", extra_specs={AL: "0"}),
    case(id="43e448c4-dcc2-404c-bc5a-a1fb5ce61642", name="allowed-off", description="'off': no RNG device.", extra_specs={AL: "off"}),
    case(id="b2788bb7-8fa1-48b1-be81-b2766cee100c", name="allowed-invalid", description="'maybe' is not a boolean-like value: API rejects.",
         extra_specs={AL: "maybe"}, expect_rejection="InvalidExtraSpec"),
    case(id="3d92a376-b1a5-4ddc-b063-92def69c4b48", since="21.0.0", name="rate", description="Both rate values set: <rate bytes period>.",
         extra_specs={RB: "1024", RP: "1000"}),
    case(id="5038245d-4d39-499a-b37e-83adcbf42d19", since="21.0.0", name="rate-bytes-only", description="rate_bytes without rate_period: no <rate>.",
         extra_specs={RB: "1024"}),
    case(id="28e3ccef-b1de-41c4-9b2a-3453139f7496", since="21.0.0", name="rate-period-only", description="rate_period without rate_bytes: no <rate>.",
         extra_specs={RP: "1000"}),
    case(id="e8c9a03a-7176-4009-ae7a-1f46b991ef11", since="21.0.0", name="rate-bytes-zero", description="rate_bytes=0: no <rate>.",
         extra_specs={RB: "0", RP: "1000"}),
    case(id="9413bda3-ccc8-499c-b9ae-c9429c9c2694", since="21.0.0", name="rate-period-zero", description="rate_period=0: no <rate>.",
         extra_specs={RB: "1024", RP: "0"}),
    case(id="9aca7dac-cd14-4099-850b-aab68dc449ed", name="rate-bytes-negative", description="rate_bytes=-1 is below the minimum 0.",
         extra_specs={RB: "-1", RP: "1000"}, expect_rejection="InvalidExtraSpec"),
    case(id="3aad42b2-36f4-4fcb-8a56-8f8853129cc8", name="rate-period-not-int", description="rate_period='abc' is not an integer.",
         extra_specs={RB: "1024", RP: "abc"}, expect_rejection="InvalidExtraSpec"),
    case(id="4f3f85d4-fe44-4763-8440-d38d59fca97a", name="rate-but-disallowed", description="A rate with hw_rng:allowed=false: no device.",
         extra_specs={AL: "false", RB: "1024", RP: "1000"}),
    case(id="9c2bc013-579a-46dd-b91c-ca543cd79e21", name="unknown-key", description="'hw_rng:foo' is not a valid hw_rng: extra spec.",
         extra_specs={"hw_rng:foo": "1"}, expect_rejection="InvalidExtraSpec"),
    case(id="097c1dda-0a5c-4d10-855d-901cb2b253eb", since="21.0.0", name="host-path-missing", description="The host's rng_dev_path does not exist.",
         host={"rng_dev_path": "/nonexistent/conformance-rng"}, expect_rejection="RngDeviceNotExist"),
    case(id="e56646f1-eeda-4b40-81ab-c19c0be1d843", name="host-path-missing-disallowed", description="A missing host path does not matter "
         "when the RNG is not allowed.", extra_specs={AL: "false"},
         host={"rng_dev_path": "/nonexistent/conformance-rng"}),
    case(id="a9a78e46-550c-4a80-9621-def0538b9953", since="21.0.0", name="host-path-random", description="The backend is the host's rng_dev_path "
         "(/dev/random).", host={"rng_dev_path": "/dev/random"}),
    case(id="12c988c0-f7be-4928-8a28-da94f3eddaed", since="21.0.0", name="image-model-virtio", description="Image hw_rng_model=virtio is valid and changes "
         "nothing.", image_properties={"hw_rng_model": "virtio"}),
    case(id="8d9e6947-c5aa-4547-8c8c-349b907a8694", name="image-model-invalid", description="Image hw_rng_model outside its enum: invalid "
         "image metadata.", image_properties={"hw_rng_model": "bogus"}, expect_rejection="InvalidImageProperty"),
    case(id="cf0567d6-e2d9-4062-8ba5-3fc6dd1d7158", since="21.0.0", name="kvm-rate", description="virt_type kvm with a rate limit.",
         extra_specs={RB: "2048", RP: "500"}, virt_type="kvm"),
)


# Lifecycle cases: judged on the domain a driver builds after the operation (protocol 2).
reboot, stop_start = partial(case, operation="reboot"), partial(case, operation="stop_start")
resize, rebuild = partial(case, operation="resize"), partial(case, operation="rebuild")

LIFECYCLE = (
    reboot(id="707cd58b-8c45-4486-8292-ee1b9a8b14ee", since="21.0.0", name="reboot-keeps-rate", description="A hard reboot regenerates the same rate limit.",
           extra_specs={RB: "1024", RP: "1000"}),
    stop_start(id="042437f1-8a1e-472f-9d26-7e171c1e06f7", since="21.0.0", name="stop-start-keeps-rate", description="Stop/start keeps the rate limit.",
               extra_specs={RB: "2048", RP: "500"}),
    resize(id="865c7d68-abf9-4ca9-bd76-5985fb5abef3", since="21.0.0", name="resize-changes-rate", description="Resize to another rate: the new flavor's bytes and period.",
           old_extra_specs={RB: "1024", RP: "1000"}, extra_specs={RB: "4096", RP: "2000"}),
    resize(id="b68b09f4-8d4e-485f-8910-687c99364153", since="21.0.0", name="resize-removes-rate", description="Resize to a flavor without a rate: no <rate>, device kept.",
           old_extra_specs={RB: "1024", RP: "1000"}),
    resize(id="096377d4-dbef-41aa-8881-083a654846f6", name="resize-disallows", description="Resize to hw_rng:allowed=false: the device is gone.",
           old_extra_specs={RB: "1024", RP: "1000"}, extra_specs={AL: "false"}),
    resize(id="2f35f90a-ec13-4f6c-a76c-89e49905233c", since="21.0.0", name="resize-allows-again", description="Resize from a flavor without RNG to one with a rate.",
           old_extra_specs={AL: "false"}, extra_specs={RB: "1024", RP: "1000"}),
    rebuild(id="d29ca404-9d91-42e4-88d8-5bd85b2727d7", since="21.0.0", name="rebuild-keeps-flavor-rate", description="Rebuild changes the image only: the flavor's rate stays.",
            extra_specs={RB: "1024", RP: "1000"}, image_properties={"hw_rng_model": "virtio"}),
    reboot(id="b451da0d-dd2c-4ab0-93be-e74e665711fe", since="21.0.0", name="reboot-host-path-gone", description="The host's RNG device disappeared since the create: the hard "
           "reboot's driver check refuses.", host={"rng_dev_path": "/nonexistent/conformance-rng"},
           expect_rejection="RngDeviceNotExist"),
    stop_start(id="a5cf4db5-bb19-4bb8-913f-83d94b7a77bf", since="21.0.0", name="stop-start-host-path-gone", description="The host's RNG device disappeared since "
               "the create: power on is a hard reboot, whose driver check refuses.",
               host={"rng_dev_path": "/nonexistent/conformance-rng"}, expect_rejection="RngDeviceNotExist"),
    resize(id="46108f2e-b04c-45c2-bc62-9c9bdc699748", since="21.0.0", name="resize-host-path-gone", description="Resize to a flavor allowing the RNG after the host's "
           "device disappeared: the regenerated domain's driver check refuses.", old_extra_specs={AL: "false"},
           extra_specs={AL: "true"}, host={"rng_dev_path": "/nonexistent/conformance-rng"},
           expect_rejection="RngDeviceNotExist"),
    resize(id="9e0a1158-13ed-4782-9379-793d0ee5413b", name="resize-host-path-gone-disallowed", description="A missing host path does not matter after a resize "
           "to a flavor without RNG.", extra_specs={AL: "false"}, host={"rng_dev_path": "/nonexistent/conformance-rng"}),
    resize(id="f818d25d-1288-421b-a061-802a94f12a1e", name="resize-rate-invalid", description="A new flavor rate below the minimum: API rejects the resize.",
           old_extra_specs={RB: "1024", RP: "1000"}, extra_specs={RB: "-1", RP: "1000"}, expect_rejection="InvalidExtraSpec"),
)
