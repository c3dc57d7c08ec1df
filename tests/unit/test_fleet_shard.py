"""--shard: whole guest groups per host, every selected case on exactly one host."""

import pytest

from conformance.catalogue import ALL_CASES
from conformance.errors import HostSpecError
from conformance.run.shard import assign, live_groups, units
from conformance.run.shard import shard_ids as shard


def test_units_join_cases_that_share_a_group():
    found = units(["a", "b", "c", "d", "e"], [["a", "c"], ["c", "e"], ["b", "x"]])
    assert found == [["a", "c", "e"], ["b"], ["d"]]


def test_assign_balances_and_is_deterministic():
    unit_list = [["a", "c", "e"], ["b"], ["d"], ["f"]]
    shards = assign(unit_list, ["h1", "h2"])
    assert shards == {"h1": ["a", "c", "e"], "h2": ["b", "d", "f"]}
    assert assign(list(reversed(unit_list)), ["h1", "h2"]) == shards


def test_more_hosts_than_units_is_a_usage_error():
    with pytest.raises(HostSpecError, match="3 hosts but .* only 2"):
        assign([["a"], ["b"]], ["h1", "h2", "h3"])


def test_the_reference_catalogue_shards_whole_groups_and_covers_every_case_once():
    """With the reference's real guest groups: no group split, no case lost or doubled."""
    groups = live_groups("reference", None)
    assert any(len(g) > 1 for g in groups)  # otherwise this test proves nothing
    ids = [c.id for c in ALL_CASES]
    shards = shard(ids, ["h1", "h2", "h3"], groups)
    placed = [i for label in shards for i in shards[label]]
    assert sorted(placed) == sorted(ids)
    where = {i: label for label, members in shards.items() for i in members}
    for group in groups:
        assert len({where[i] for i in group}) == 1, group
    sizes = [len(members) for members in shards.values()]
    assert max(sizes) - min(sizes) <= max(len(g) for g in groups)


def test_a_group_partly_selected_stays_whole():
    shards = shard(["a", "b", "c"], ["h1", "h2"], [["a", "b", "z"]])
    assert shards == {"h1": ["a", "b"], "h2": ["c"]}
