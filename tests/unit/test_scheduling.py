"""fixtures.scheduling: a live guest group is one xdist work unit; other items are their own."""

import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.scheduling import work_unit

FEATURES = "tests/conformance/test_live_features.py"


def test_a_groups_host_guest_and_fire_items_share_one_unit():
    ids = [f"{FEATURES}::test_host[agent-8992c6b7]", f"{FEATURES}::test_host[hidden_hypervisor-8992c6b7]",
           f"{FEATURES}::test_guest[rng-8992c6b7]", f"{FEATURES}::test_watchdog_fires[reset-8992c6b7]"]
    assert {work_unit(i) for i in ids} == {f"{FEATURES}::group-8992c6b7"}


def test_a_lifecycle_pairs_host_and_guest_items_share_one_unit():
    module = "tests/conformance/test_live_lifecycle.py"
    ids = [f"{module}::test_host[reboot-watchdog-reset-1a2b3c4d]",
           f"{module}::test_guest[reboot-watchdog-reset-1a2b3c4d]"]
    assert {work_unit(i) for i in ids} == {f"{module}::group-1a2b3c4d"}


def test_groups_differ_by_key():
    assert work_unit(f"{FEATURES}::test_host[rng-f378de68]") != work_unit(f"{FEATURES}::test_host[rng-d8e44fe1]")


@pytest.mark.parametrize("nodeid", [
    "tests/conformance/test_xml_catalogue.py::test_case[agent-unset-d2d93c9e]",
    "tests/conformance/test_live_requests.py::test_driver_builds_the_domain_to_boot[agent-unset-d2d93c9e]",
    "tests/conformance/test_live_locked_memory.py::test_blocker_prediction_matches_libvirt[locked-groups]",
    f"{FEATURES}::test_host[agent-not-hex!]",
])
def test_other_items_are_units_of_their_own(nodeid):
    assert work_unit(nodeid) == nodeid


def test_every_collected_live_item_is_in_its_groups_unit():
    """The ids test_live_features.py really collects (reference driver) map to one unit per
    guest group, with the group's items in order: host, guest, then the watchdog fire."""
    from conformance.live import plan

    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "pytest", FEATURES, "--collect-only", "-q",
                           "-n", "0", "-p", "no:cacheprovider", "--driver", "reference"],
                          cwd=repo, capture_output=True, text=True, timeout=120)
    ids = [line for line in done.stdout.splitlines() if line.startswith(FEATURES + "::")]
    assert ids, done.stdout + done.stderr
    units: dict[str, list[str]] = {}
    for nodeid in ids:
        units.setdefault(work_unit(nodeid), []).append(nodeid.split("::")[1].split("[")[0])
    assert len(units) == len(plan.groups_of("reference"))
    rank = {"test_host": 0, "test_guest": 1, "test_watchdog_fires": 2}
    for tests in units.values():
        assert [rank[t] for t in tests] == sorted(rank[t] for t in tests)


def test_every_collected_lifecycle_item_is_in_its_trails_unit():
    """test_live_lifecycle.py's ids (reference driver): one work unit per planned trail, its
    pairs in trail order, each pair's host item before its guest item."""
    from conformance.live import lifecycle, trails

    module = "tests/conformance/test_live_lifecycle.py"
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "pytest", module, "--collect-only", "-q",
                           "-n", "0", "-p", "no:cacheprovider", "--driver", "reference"],
                          cwd=repo, capture_output=True, text=True, timeout=120, check=False)
    ids = [line for line in done.stdout.splitlines() if line.startswith(module + "::")]
    assert ids, done.stdout + done.stderr
    units: dict[str, list[str]] = {}
    for nodeid in ids:
        units.setdefault(work_unit(nodeid), []).append(nodeid)
    planned = trails.plan_trails(list(lifecycle.pairs_of("reference")))
    assert len(units) == len(planned)
    for trail in planned:
        got = units[f"{module}::group-{trail[0].case_id[:8]}"]
        order = [i.split("[")[1].rsplit("-", 2)[1] for i in got]
        assert list(dict.fromkeys(order)) == [p.case_id[:8] for p in trail]
        assert [i.split("::")[1].split("[")[0] for i in got if "-locked_memory-" not in i] == \
            ["test_host", "test_guest"] * sum(1 for p in trail if p.feature != "locked_memory")
