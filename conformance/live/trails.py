"""Order lifecycle pairs into trails, so one guest serves several operations.

A pair is an edge from its before domain to its after domain (``before_key`` ->
``after_key``: :func:`conformance.live.grouping.config_key`, the domain without identity,
boot files and console, plus the reference's features). After pair A's operation the guest
runs A's after domain; when that equals pair B's before domain, B's operation can be
applied to the same guest: a trail of n pairs boots n + 1 times instead of 2n. Each pair
still records its own facts (uuid, boot ids) right before its operation and checks exactly
one new boot after it. Trails are a plan only: the test boots afresh whenever the running
guest is not in the pair's before state (see tests/conformance/test_live_lifecycle.py).

``terminal`` pairs (the watchdog fire after them is destructive) only end a trail;
``isolated`` pairs (a domain that may not start on every host: locked memory, Hyper-V)
form trails of their own, so a skip never breaks a trail. Deterministic: catalogue order.
"""

from __future__ import annotations

MAX_PAIRS = 6  # a longer trail is split: trails are xdist work units, and short ones balance


def plan_trails(pairs, max_pairs: int = MAX_PAIRS) -> list[list]:
    """Trails covering every pair once, each in operation order, as few as the domains
    allow (before parts of at most ``max_pairs``): an Euler tour through a hub that joins
    every domain more pairs enter than leave to every domain more leave than enter, cut at
    the hub's edges; a terminal pair leads to a domain of its own, so it ends its trail."""
    edges = [(p.before_key, ("end", p.case_id) if p.terminal else p.after_key, p)
             for p in pairs if not p.isolated]
    surplus: dict = {}
    for tail, head, _ in edges:
        surplus[tail] = surplus.get(tail, 0) + 1
        surplus[head] = surplus.get(head, 0) - 1
    hub = ("hub",)
    for node, n in surplus.items():
        edges += [(hub, node, None)] * max(n, 0) + [(node, hub, None)] * max(-n, 0)
    leaving: dict = {}
    for edge in edges:
        leaving.setdefault(edge[0], []).append(edge)
    trails, part = [], []
    for start in [hub, *leaving]:
        for edge in _tour(start, leaving):
            if edge[2] is None:
                trails.append(part)
                part = []
            else:
                part.append(edge[2])
        trails.append(part)
        part = []
    chained = [piece for t in trails if t for piece in _split(t, max_pairs)]
    return chained + [[p] for p in pairs if p.isolated]


def _tour(start, leaving) -> list:
    """Hierholzer: the unused edges reachable from ``start`` as one closed walk (consumed)."""
    stack, walk = [(start, None)], []
    while stack:
        node, edge = stack[-1]
        if leaving.get(node):
            nxt = leaving[node].pop(0)
            stack.append((nxt[1], nxt))
        else:
            stack.pop()
            if edge is not None:
                walk.append(edge)
    return walk[::-1]


def _split(trail: list, max_pairs: int) -> list[list]:
    """``trail`` cut into near-equal parts of at most ``max_pairs`` pairs."""
    parts = -(-len(trail) // max_pairs)
    size = -(-len(trail) // parts)
    return [trail[i:i + size] for i in range(0, len(trail), size)]
