"""`conformance list`: every catalogue case with its levels and what this host can run."""

import json
import subprocess
import sys

from conformance.catalogue import ALL_CASES as CASES  # create-time and lifecycle


def listing(*args):
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "list", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_json_lists_every_case_with_levels_and_reasons():
    """--json: one row per case; xml always runs here; every 'no' carries its reason."""
    rows = json.loads(listing("--json"))
    assert [r["id"] for r in rows] == [c.id for c in CASES]
    assert [r["operation"] for r in rows] == [c.operation for c in CASES]
    for row in rows:
        assert row["levels"][0] == "xml" and row["here"]["xml"] == "yes"
        assert set(row["here"]) == set(row["levels"])
        assert all(v == "yes" or ": " in v for v in row["here"].values()), row


def test_table_filters_by_feature():
    """The table shows only the asked feature's cases and counts them."""
    lines = listing("--feature", "rng").splitlines()
    wanted = [c for c in CASES if c.feature == "rng"]
    assert lines[-1] == f"{len(wanted)} cases"
    assert all(" rng " in line for line in lines[:-1])


def test_table_shows_each_case_operation():
    """The table's third column is the case's operation (create, reboot, ..., rebuild)."""
    lines = listing().splitlines()[:-1]
    assert [line.split()[2] for line in lines] == [c.operation for c in CASES]


def test_memory_encrypted_cases_say_why_they_cannot_boot_here():
    """A memory-encrypted case runs at level xml; its live levels name the host's AMD SEV
    (this host has none)."""
    from conformance.host.capabilities import probe, sev_blocker
    reason = sev_blocker(probe())
    if reason is None:
        import pytest
        pytest.skip("this host offers AMD SEV")
    rows = {r["name"]: r for r in json.loads(listing("--json", "--feature", "rng"))}
    here = rows["sev-rng"]["here"]
    assert here["xml"] == "yes" and here["host"] == here["guest"] == f"no: {reason}"


def test_protocol_3_cases_say_they_are_not_live_yet():
    """A case of a protocol-3 operation the reference accepts runs at level xml; its live
    levels say that the operation is not executed live yet."""
    rows = json.loads(listing("--json", "--feature", "rng"))
    row = next(r for r in rows if r["name"] == "live-migrate-keeps-source-backend")
    reason = "no: live_migrate needs two hosts; this run had one"  # the listing sees one host
    assert row["here"] == {"xml": "yes", "host": reason, "guest": reason}
