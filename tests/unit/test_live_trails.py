"""conformance.live.trails: lifecycle pairs ordered so one guest serves several operations."""

from dataclasses import dataclass
from itertools import pairwise

import pytest

from conformance.live import lifecycle, trails


@dataclass(frozen=True)
class Pair:
    case_id: str
    before_key: str
    after_key: str
    terminal: bool = False
    isolated: bool = False


def chained(trail) -> bool:
    return all(a.after_key == b.before_key and not a.terminal for a, b in pairwise(trail))


def test_every_pair_once_and_each_trail_is_a_chain():
    pairs = [Pair("a", "X", "X"), Pair("b", "X", "Y"), Pair("c", "Y", "X"), Pair("d", "Y", "Y")]
    found = trails.plan_trails(pairs)
    assert sorted(p.case_id for t in found for p in t) == ["a", "b", "c", "d"]
    assert all(chained(t) for t in found)
    assert len(found) == 1  # a closed walk: one boot serves all four operations


def test_terminal_pairs_end_trails_and_isolated_ones_stand_alone():
    pairs = [Pair("fire", "X", "X", terminal=True), Pair("a", "X", "Y"), Pair("b", "Y", "X"),
             Pair("lock", "X", "L", isolated=True), Pair("c", "X", "Y")]
    found = trails.plan_trails(pairs)
    assert all(chained(t) for t in found)
    assert [["lock"]] == [[p.case_id for p in t] for t in found if any(p.isolated for p in t)]
    assert all(t[-1].case_id == "fire" for t in found if any(p.terminal for p in t))
    assert sorted(p.case_id for t in found for p in t) == ["a", "b", "c", "fire", "lock"]


@pytest.mark.parametrize("length, parts", [(6, [6]), (7, [4, 3]), (12, [6, 6]), (13, [5, 5, 3])])
def test_long_trails_are_split(length, parts):
    pairs = [Pair(str(i), "X", "X") for i in range(length)]
    assert [len(t) for t in trails.plan_trails(pairs, max_pairs=6)] == parts


def test_reference_pairs_need_fewer_boots():
    """The reference's pairs: every pair in exactly one chained trail, and fewer boots
    (a trail of n pairs boots n + 1 times) than two per pair."""
    pairs = list(lifecycle.pairs_of("reference"))
    found = trails.plan_trails(pairs)
    assert sorted(p.case_id for t in found for p in t) == sorted(p.case_id for p in pairs)
    assert all(chained(t) for t in found)
    shared = [t for t in found if not t[0].isolated]  # a domain that may not start boots alone
    assert sum(len(t) + 1 for t in shared) < 1.5 * sum(len(t) for t in shared)
    assert trails.plan_trails(pairs) == found  # deterministic: every xdist worker agrees
