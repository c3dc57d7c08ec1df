"""Protocol 3 (docs/driver-protocol.md, "Protocol 3"): the request shape of the rest of the
lifecycle, its schema, and who receives it."""

import json

import pytest

from conformance.contract import (MIGRATIONS, PROTOCOL_2_OPERATIONS, PROTOCOL_3_OPERATIONS,
                                  SOURCE_DOMAIN_MAX, HostSettings, Request, driver_protocol,
                                  scope_of, validate)
from conformance.drivers import load_driver
from conformance.errors import RequestInvalid

SOURCE = "<domain type='qemu'><name>instance-00000001</name></domain>"


def request(operation: str, **keys) -> Request:
    if operation in MIGRATIONS:
        keys = {"source_host": HostSettings(), "source_domain": SOURCE, **keys}
    return Request(operation=operation, **keys)


@pytest.mark.parametrize("operation", PROTOCOL_3_OPERATIONS)
def test_round_trip_through_the_schema(operation):
    """Every protocol-3 request is written as protocol 3, valid against request-v3.json, and
    read back unchanged."""
    made = request(operation, host=HostSettings(rng_dev_path="/dev/hwrng"))
    data = json.loads(made.to_json())
    assert data["protocol"] == 3 and data["operation"] == operation
    assert ("source_domain" in data) == (operation in MIGRATIONS)
    validate("request", data)
    assert Request.from_dict(data) == made


@pytest.mark.parametrize("operation", PROTOCOL_2_OPERATIONS)
def test_protocol_2_requests_are_written_as_before(operation):
    """A protocol-2 operation still makes a protocol-2 request with no protocol-3 key."""
    made = Request(operation=operation, **({"old_flavor": Request().flavor.__class__(name="old")}
                                           if operation == "resize" else {})
                   | ({"old_image": Request().image} if operation == "rebuild" else {}))
    data = made.to_dict()
    assert data["protocol"] == 2 and not {"source_host", "source_domain"} & set(data)


@pytest.mark.parametrize("operation", MIGRATIONS)
@pytest.mark.parametrize("missing", ["source_host", "source_domain"])
def test_a_migration_needs_its_source(operation, missing):
    with pytest.raises(RequestInvalid, match=missing):
        request(operation, **{missing: None})
    data = json.loads(request(operation).to_json())
    del data[missing]
    with pytest.raises(RequestInvalid):
        Request.from_dict(data)


@pytest.mark.parametrize("operation", ["create", "reboot", "suspend_resume", "evacuate"])
def test_only_a_migration_has_a_source(operation):
    with pytest.raises(RequestInvalid, match="only for a migration"):
        Request(operation=operation, source_host=HostSettings())
    data = json.loads(Request(operation=operation).to_json())
    data["source_domain"] = SOURCE
    with pytest.raises(RequestInvalid):
        Request.from_dict(data)


def test_source_domain_is_bounded():
    with pytest.raises(RequestInvalid, match="source_domain"):
        request("live_migrate", source_domain="x" * (SOURCE_DOMAIN_MAX + 1))
    data = json.loads(request("live_migrate").to_json())
    data["source_domain"] = "x" * (SOURCE_DOMAIN_MAX + 1)
    with pytest.raises(RequestInvalid):
        validate("request", data)


def test_protocol_3_keys_and_operations_are_refused_elsewhere():
    """A protocol-2 request cannot name a protocol-3 operation nor carry its keys; a
    protocol-3 request carries neither old_flavor nor old_image."""
    data = json.loads(request("live_migrate").to_json())
    with pytest.raises(RequestInvalid):
        validate("request", {**data, "protocol": 2})
    plain = json.loads(Request(operation="reboot").to_json())
    with pytest.raises(RequestInvalid):
        validate("request", {**plain, "source_host": {"rng_dev_path": "/dev/urandom"}})
    with pytest.raises(RequestInvalid):
        validate("request", {**json.loads(request("pause_unpause").to_json()),
                             "old_image": {"name": "x", "properties": {}}})


def test_exec_specs_name_protocol_3():
    assert driver_protocol(load_driver("exec3:true")) == 3
    assert driver_protocol(load_driver("exec3-stream:true")) == 3


def test_scope_names_what_an_older_driver_is_certified_on():
    """The headline's scope: nothing for protocol 3, the protocol-2 operations for 2."""
    assert scope_of(3) is None
    assert "create only" in scope_of(1)
    two = scope_of(2)
    assert "protocol 2" in two and all(op in two for op in PROTOCOL_3_OPERATIONS)


def test_an_older_driver_s_skips_are_summed_by_the_protocol_they_need():
    """The headline sums the skips of an older driver as 'N need protocol 3' (one reason per
    case otherwise: each names its case)."""
    from conformance.report.headline import need_of, needs
    skips = [{"level": "xml", "cases": 1, "reason": f"{i} rng/x-{i}: {op} needs protocol 3; the "
              "driver speaks protocol 2 (certified on create and the operations of protocol 2)"}
             for i, op in enumerate(PROTOCOL_3_OPERATIONS)]
    assert needs(skips) == [("need protocol 3", len(PROTOCOL_3_OPERATIONS))]
    assert need_of("x: resize needs protocol 2; the driver speaks protocol 1") == "need protocol 2"


def test_report_html_has_a_row_per_operation():
    """The operation x level table of report.html: one row per operation certified."""
    from lxml import etree

    from conformance.report.aggregate import operation_matrix
    from conformance.report.writers import _operations_table
    levels = {"xml": {"status": "pass"}, "host": {"status": "n/a"}, "guest": {"status": "n/a"}}
    results = [{"operation": op, "levels": levels} for op in ("create",) + PROTOCOL_3_OPERATIONS]
    table = etree.fromstring(_operations_table({"operations": operation_matrix(results)}).split("</h2>", 1)[1])
    rows = [tr.findtext("th") for tr in table.findall("tr")[1:]]
    assert rows == ["create", *PROTOCOL_3_OPERATIONS]


def test_a_protocol_2_driver_is_certified_on_what_it_speaks(tmp_path):
    """certify --level xml of a protocol-2 driver selects create and the protocol-2 operations
    only (as a protocol-1 driver gets create only): no skips, its level reached, the headline
    naming what it is certified on."""
    import subprocess
    import sys
    served = f"{sys.executable} -m conformance.cli driver-exec reference"
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver",
                           f"exec2-stream:{served}", "--level", "xml", "--parallel", "1",
                           "--feature", "agent", "--no-progress", "--output-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["driver_protocol"] == 2
    assert {c["operation"] for c in report["cases"]} <= {"create", *PROTOCOL_2_OPERATIONS}
    headline = report["certification"]["headline"]
    assert headline.startswith("CERTIFIED, level xml-only (certified on create and reboot"), headline
    assert "need protocol 3" not in headline


def test_a_live_headline_says_which_cases_were_certified_at_level_xml_only():
    """A certification deeper than xml names the protocol-3 cases that had no live check."""
    from conformance.live.requests import not_live_yet
    from conformance.report.headline import certification
    na = {"status": "n/a", "reason": not_live_yet("evacuate")}
    results = [{"id": "a", "verdict": "pass", "levels": {"xml": {"status": "pass"}, "host": na, "guest": na}},
               {"id": "b", "verdict": "pass", "levels": {lvl: {"status": "pass"} for lvl in ("xml", "host", "guest")}}]
    headline = certification(results, "guest")["headline"]
    assert headline.startswith("CERTIFIED, level full")
    assert "1 cases of protocol-3 operations at level xml only (live execution not implemented yet)" in headline
    assert "protocol-3" not in certification(results, "xml")["headline"]
