"""A pytest plugin for certify's children (``PYTEST_PLUGINS=faults.fail_once``): the first
check of level ``CFM_FAIL_ONCE_LEVEL`` that verifies case ``CFM_FAIL_ONCE_CASE`` fails after
it ran (on its guest, as a real failure would), once per marker file
``CFM_FAIL_ONCE_MARKER`` (created then), so its rerun passes: a flake."""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    outcome = yield
    from conformance.report.selection import item_cases
    covered = item_cases(item)
    case, level = os.environ.get("CFM_FAIL_ONCE_CASE"), os.environ.get("CFM_FAIL_ONCE_LEVEL")
    if covered is None or case not in covered[1] or covered[2] != level:
        return outcome
    try:
        os.close(os.open(os.environ["CFM_FAIL_ONCE_MARKER"], os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return outcome
    raise AssertionError("injected fault: this check fails once (tests/faults/fail_once.py)")
