"""What each host certifies (:func:`selections`): every selected case, or with ``certify
--shard`` its share: the selected cases split across hosts, never splitting a guest group.

A shard unit is a set of cases that must run on one host: the cases of one live guest
group (they share a guest, its host/guest checks and the watchdog fire) are one unit;
every other case (level 1 only, lifecycle pairs, ``--level xml``) is a unit alone, and all
items of a case (xml, live, host, guest, lifecycle) follow its id. Units go, largest first
(ties: lowest case id), to the host with the fewest cases so far (ties: the first host):
deterministic, and every selected case lands on exactly one host.
"""

from __future__ import annotations

from dataclasses import replace

from conformance.errors import HostSpecError
from conformance.report.selection import Selection
from conformance.run.hosts import Host
from conformance.run.settings import Settings


def selections(settings: Settings, hosts: list[Host], selection: Selection,
               shard: bool) -> dict[str, Selection]:
    """label -> what that host certifies: everything, or with ``shard`` its share of the
    selected cases (whole guest groups; ids restricted, the other filters kept)."""
    if not shard:
        return {host.label: selection for host in hosts}
    from conformance.catalogue import ALL_CASES
    ids = [case.id for case in ALL_CASES if selection.case_wanted(case)]
    groups = [] if settings.level == "xml" else live_groups(
        settings.driver, getattr(settings.config, "exec_driver_timeout", None))
    shares = shard_ids(ids, [host.label for host in hosts], groups)
    return {label: replace(selection, ids=share) for label, share in shares.items()}


def units(case_ids: list[str], groups: list[list[str]]) -> list[list[str]]:
    """Shard units of the selected ``case_ids``: connected by shared membership of a group
    in ``groups`` (lists of case ids; ids not selected are ignored)."""
    selected = set(case_ids)
    parent = {case_id: case_id for case_id in case_ids}

    def root(case_id: str) -> str:
        while parent[case_id] != case_id:
            parent[case_id] = parent[parent[case_id]]
            case_id = parent[case_id]
        return case_id

    for members in groups:
        inside = [m for m in members if m in selected]
        for other in inside[1:]:
            parent[root(other)] = root(inside[0])
    found: dict[str, list[str]] = {}
    for case_id in sorted(case_ids):
        found.setdefault(root(case_id), []).append(case_id)
    return sorted(found.values(), key=lambda unit: (-len(unit), unit[0]))


def assign(unit_list: list[list[str]], labels: list[str]) -> dict[str, list[str]]:
    """label -> its sorted case ids; every host gets at least one unit."""
    if len(unit_list) < len(labels):
        raise HostSpecError(f"--shard: {len(labels)} hosts but the selection has only "
                            f"{len(unit_list)} independent case groups; give fewer hosts")
    shards: dict[str, list[str]] = {label: [] for label in labels}
    for unit in sorted(unit_list, key=lambda u: (-len(u), min(u))):
        lightest = min(labels, key=lambda label: (len(shards[label]), labels.index(label)))
        shards[lightest].extend(unit)
    return {label: sorted(ids) for label, ids in shards.items()}


def live_groups(driver_spec: str, exec_timeout: float | None) -> list[list[str]]:
    """Case ids of each live guest group the judged driver's domains form (as the pytest
    children will group them: ``conformance.live.plan.groups``, on both virt types)."""
    from conformance.drivers import load_driver
    from conformance.live.plan import groups
    driver = load_driver(driver_spec, **({} if exec_timeout is None else {"exec_timeout": exec_timeout}))
    try:
        return [group.case_ids() for group in groups(driver)]
    finally:
        getattr(driver, "close", lambda: None)()


def shard_ids(case_ids: list[str], labels: list[str], groups: list[list[str]]) -> dict[str, list[str]]:
    """label -> case ids: the selected cases split across ``labels`` by whole units."""
    return assign(units(case_ids, groups), labels)
