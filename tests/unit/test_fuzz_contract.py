"""Fuzz: Request.from_json on arbitrary JSON-ish input ends in a Request or RequestInvalid."""

import json

from hypothesis import given, settings, strategies as st

from conformance.contract import Request
from conformance.errors import RequestInvalid

FUZZ = settings(max_examples=300, deadline=None)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
    | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12),
                                                                     children, max_size=4),
    max_leaves=20)


def parse(text):
    """from_json: a Request (which round-trips) or RequestInvalid; nothing else escapes."""
    try:
        request = Request.from_json(text)
    except RequestInvalid:
        return None
    assert Request.from_json(request.to_json()) == request
    return request


@FUZZ
@given(JSON)
def test_arbitrary_json_values(value):
    """Any JSON document is a Request or a RequestInvalid."""
    parse(json.dumps(value))


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_and_text(data):
    """Any bytes or text (not JSON, bad UTF-8, NULs) is a Request or a RequestInvalid."""
    parse(data)


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, prefix + (key,))


@FUZZ
@given(st.data())
def test_mutated_valid_requests(data):
    """A valid request with one value replaced (or one key added/removed) anywhere is a
    Request or a RequestInvalid."""
    document = Request().to_dict()
    paths = [p for p in _paths(document) if p]
    path = data.draw(st.sampled_from(paths))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(JSON)
    elif action == "delete":
        del parent[path[-1]]
    else:
        parent[data.draw(st.text(max_size=12))] = data.draw(JSON)
    parse(json.dumps(document))


@FUZZ
@given(st.dictionaries(st.text(max_size=30), st.text(max_size=300), max_size=5),
       st.integers(min_value=-(10 ** 40), max_value=10 ** 40))
def test_specs_and_numbers(specs, number):
    """Arbitrary extra specs (over-long values, control characters) and huge numbers."""
    document = Request().to_dict()
    document["flavor"]["extra_specs"] = specs
    document["flavor"]["vcpus"] = number
    parse(json.dumps(document))


def test_deeply_nested_json_is_refused_by_name():
    """A JSON bomb nested deeper than Python's recursion limit is RequestInvalid."""
    assert parse("[" * 100000 + "]" * 100000) is None
