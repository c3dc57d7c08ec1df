"""Run identity: run ids, domain names, the ownership marker (no libvirt needed)."""

import os
import re

from conformance.lab.runs import NAME_PREFIX, OWNER_TAG, Owner, Run, process_start_time


def test_run_ids_are_short_random_hex():
    """Run ids are 8 hex digits and differ between runs (so xdist workers never collide)."""
    ids = {Run().id for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"[0-9a-f]{8}", i) for i in ids)


def test_domain_names_are_unique_and_libvirt_safe(tmp_path):
    """Names are cfm-<run>-<n>-<slug>, unique within a run, slug cleaned and bounded."""
    run = Run("abcd1234", state_dir=tmp_path)
    names = [run.domain_name("test_x[param one/two]") for _ in range(3)] + [run.domain_name("")]
    assert len(set(names)) == 4
    assert names[0] == "cfm-abcd1234-1-test_x-param-one-two-"
    assert names[3] == "cfm-abcd1234-4-guest"
    assert all(n.startswith(NAME_PREFIX + "abcd1234-") and re.fullmatch(r"[A-Za-z0-9_-]+", n)
               for n in names)
    assert len(run.domain_name("x" * 200)) <= len("cfm-abcd1234-5-") + 24


def test_run_dir_records_its_owner_and_is_removed(tmp_path):
    """create() writes the owner pid and start time; remove() deletes the directory."""
    run = Run(state_dir=tmp_path).create()
    pid, started = (run.dir / "owner").read_text().split()
    assert int(pid) == os.getpid() and started == process_start_time(os.getpid())
    run.remove()
    assert not run.dir.exists()


def test_owner_marker_round_trip_and_liveness():
    """The marker element parses back; a dead or reused pid is not alive."""
    me = Run("feedbeef").owner
    element = me.element()
    assert element.tag == OWNER_TAG
    assert Owner.from_element(element) == me
    assert me.alive()
    assert not Owner("x", os.getpid(), "1").alive()          # same pid, other start time
    assert not Owner("x", 2 ** 22 + 1, "1").alive()          # no such process
    assert Owner.from_element(element.makeelement(OWNER_TAG, {"run": "x"})) is None
