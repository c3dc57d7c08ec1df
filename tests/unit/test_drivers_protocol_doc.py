"""docs/driver-protocol.md: its examples are valid against the protocol schemas and checks, and
its minimal stream driver works."""

import json
import re
import sys
from pathlib import Path

import pytest
from lxml import etree

from conformance.catalogue.expected import expected_outcome
from conformance.checks import check_xml
from conformance.checks.schema import check_schema
from conformance.contract import REJECTION_CODES, Flavor, Rejected, Request, validate
from conformance.drivers.exec_stream import StreamDriver
from conformance.drivers.exec_stream_wire import HELLO
from conformance.drivers.output import parse_domain
from conformance.drivers.run import run_driver

DOC = (Path(__file__).resolve().parents[2] / "docs" / "driver-protocol.md").read_text()


def example(kind: str) -> str:
    match = re.search(rf"<!-- example: {kind} -->\n```\w+\n(.*?)^```", DOC, re.S | re.M)
    assert match, f"no '{kind}' example in docs/driver-protocol.md"
    return match.group(1)


def test_request_example_is_schema_valid():
    """The request example is protocol 1 and parses into a Request."""
    data = json.loads(example("request"))
    validate("request", data)
    assert data["protocol"] == 1 and Request.from_dict(data).virt_type == "qemu"


def test_rejection_example_is_schema_valid():
    """The rejection examples validate against rejection-v1."""
    validate("rejection", json.loads(example("rejection")))
    validate("rejection", json.loads(example("rejection-rebuild")))


def test_lifecycle_request_examples_are_protocol_2():
    """The resize and rebuild examples are valid protocol-2 requests with their old_* key."""
    for kind, key in (("resize", "old_flavor"), ("rebuild", "old_image")):
        data = json.loads(example(f"request-{kind}"))
        validate("request", data)
        request = Request.from_dict(data)
        assert (data["protocol"], request.operation) == (2, kind) and key in data


def test_resize_answer_passes_the_checks():
    """The resize answer expresses the new flavor's features (pause, new rate) with the image's agent."""
    request = Request.from_json(example("request-resize"))
    dom = etree.fromstring(example("accepted-resize").encode())
    assert check_schema(dom) == []
    assert check_xml(expected_outcome(request).features, dom, request) == []


def test_rebuild_example_is_refused_as_documented():
    """The reference refuses the rebuild example with the documented rejection."""
    expected = expected_outcome(Request.from_json(example("request-rebuild")))
    assert expected.rejection.to_dict() == json.loads(example("rejection-rebuild"))


def test_realtime_example_is_locked_and_passes_the_checks():
    """The host-settings example is a valid request; its answer is locked (implicitly, by
    realtime) and passes the checks."""
    data = json.loads(example("request-realtime"))
    validate("request", data)
    request = Request.from_dict(data)
    assert request.host.cpu_dedicated_set == "0-1" and expected_outcome(request).features.locked_memory
    dom = etree.fromstring(example("accepted-realtime").encode())
    assert check_schema(dom) == []
    assert check_xml(expected_outcome(request).features, dom, request) == []


def test_accepted_example_passes_the_checks():
    """The (abridged) XML answer is a valid libvirt domain expressing the request's features."""
    request = Request.from_json(example("request"))
    dom = etree.fromstring(example("accepted").encode())
    assert check_schema(dom) == []
    assert check_xml(expected_outcome(request).features, dom, request) == []


def test_every_rejection_code_is_documented():
    """Each protocol rejection code has a row in the document."""
    for code in REJECTION_CODES:
        assert f"| `{code}` |" in DOC


# --- the stream mode -------------------------------------------------------------------

def test_stream_examples_are_schema_valid():
    """The hello, request and reply lines are one line each and valid against their schemas;
    the request inside is request-v1; the hello is the one the harness sends."""
    for kind, schema in [("stream-hello", "stream-hello"), ("stream-request", "stream-request"),
                         ("stream-reply-xml", "stream-reply"), ("stream-reply-rejection", "stream-reply"),
                         ("stream-reply-fault", "stream-reply")]:
        text = example(kind)
        assert text.count("\n") == 1, f"{kind} example is not one line"
        validate(schema, json.loads(text))
    assert json.loads(example("stream-hello")) == HELLO
    validate("request", json.loads(example("stream-request"))["request"])
    validate("rejection", json.loads(example("stream-reply-rejection"))["rejection"])


def test_stream_rejection_example_is_the_reference_answer():
    """The documented reply to the documented request line is what the reference decides."""
    request = Request.from_dict(json.loads(example("stream-request"))["request"])
    rejection = json.loads(example("stream-reply-rejection"))["rejection"]
    assert expected_outcome(request).rejection.code == rejection["error"]


def test_stream_xml_example_parses_as_a_domain():
    """The documented xml reply carries a libvirt domain."""
    root = parse_domain(json.loads(example("stream-reply-xml"))["xml"])
    assert check_schema(root) == [] and root.findtext("name") == "instance-00000002"


def test_minimal_stream_driver_example_works(tmp_path):
    """The documented minimal stream driver answers through StreamDriver: XML, then a
    rejection, from one process."""
    script = tmp_path / "driver.py"
    script.write_text(example("stream-driver"))
    driver = StreamDriver([sys.executable, str(script)], timeout=20)
    try:
        assert etree.fromstring(run_driver(driver, Request()).xml.encode()).tag == "domain"
        pid = driver.pid
        with pytest.raises(Rejected):
            driver.build(Request(flavor=Flavor(extra_specs={"hw:locked_memory": "true"})))
        assert driver.pid == pid
    finally:
        driver.close()


def test_protocol_3_request_examples_are_valid():
    """The live-migration and suspend/resume examples are valid protocol-3 requests; only the
    migration carries its source."""
    for kind, operation in (("live-migrate", "live_migrate"), ("suspend-resume", "suspend_resume")):
        data = json.loads(example(f"request-{kind}"))
        validate("request", data)
        request = Request.from_dict(data)
        assert (data["protocol"], request.operation) == (3, operation)
        assert (request.source_domain is not None) == (operation == "live_migrate")
        etree.fromstring(request.source_domain.encode()) if request.source_domain else None


def test_live_migration_answer_passes_the_checks():
    """The live-migration answer expresses the reference's features for the documented
    request: the source's watchdog, RNG backend and agent channel."""
    request = Request.from_json(example("request-live-migrate"))
    expected = expected_outcome(request)
    assert expected.accepted and expected.features.watchdog_action == "reset"
    dom = etree.fromstring(example("accepted-live-migrate").encode())
    assert check_schema(dom) == []
    assert check_xml(expected.features, dom, request) == []
    source = etree.fromstring(request.source_domain.encode())
    assert check_xml(expected.features, source, request) == []  # the source runs the same
