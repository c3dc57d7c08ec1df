"""Why a pytest child could not back a verdict, in one line with its real cause: an
INTERNALERROR (at collection or later), a usage error, an empty collection; never a bare
exit status."""

from conformance.run.results import pytest_problem

WORKER_CRASH = """bringing up nodes...
INTERNALERROR> def worker_internal_error(
INTERNALERROR>         self._active_nodes.remove(node)
INTERNALERROR> >           assert False, formatted_error
INTERNALERROR> E           AssertionError: Traceback (most recent call last):
INTERNALERROR> E               File "/x/_pytest/main.py", line 386, in _main
INTERNALERROR> E                 config.hook.pytest_collection(session=session)
INTERNALERROR> E               File "/x/_pytest/main.py", line 875, in perform_collect
INTERNALERROR> E                 hook.pytest_collection_modifyitems(
INTERNALERROR> E               File "/x/conformance/report/selection.py", line 25, in item_cases
INTERNALERROR> E                 return check.feature, list(check.group.case_ids(check.feature)), level
INTERNALERROR> E             AttributeError: 'NotSetType' object has no attribute 'feature'
INTERNALERROR> E           assert False
INTERNALERROR>
INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/x/xdist/dsession.py", line 218, in worker_workerfinished
INTERNALERROR>     self._active_nodes.remove(node)
INTERNALERROR> KeyError: <WorkerController gw1>
"""

RUN_CRASH = """collected 3 items
tests/conformance/test_xml_catalogue.py ..
INTERNALERROR> Traceback (most recent call last):
INTERNALERROR>   File "/x/_pytest/runner.py", line 120, in pytest_runtest_protocol
INTERNALERROR>     raise RuntimeError("boom")
INTERNALERROR> RuntimeError: boom
"""


def test_internal_error_at_collection_names_its_cause(tmp_path):
    (tmp_path / "pytest.log").write_text(WORKER_CRASH)
    problem = pytest_problem(3, None, tmp_path)
    assert problem.startswith("pytest INTERNALERROR at collection: AttributeError: 'NotSetType' "
                              "object has no attribute 'feature'"), problem
    assert "\n" not in problem and str(tmp_path / "pytest.log") in problem


def test_internal_error_during_the_run(tmp_path):
    (tmp_path / "pytest.log").write_text(RUN_CRASH)
    problem = pytest_problem(3, None, tmp_path)
    assert problem.startswith("pytest INTERNALERROR: RuntimeError: boom"), problem


def test_usage_error_names_pytests_message(tmp_path):
    (tmp_path / "pytest.log").write_text("")
    problem = pytest_problem(4, None, tmp_path, stderr="ERROR: file or directory not found: "
                             "tests/conformance/test_xml_catalogue.py\n\n")
    assert problem.startswith("pytest usage error: file or directory not found: "
                              "tests/conformance/test_xml_catalogue.py"), problem


def test_bare_status_is_never_the_whole_story(tmp_path):
    for status in (2, 3, 4):
        (tmp_path / "pytest.log").write_text("something unexpected\n")
        problem = pytest_problem(status, None, tmp_path)
        assert problem and "see" in problem and not problem.startswith("pytest ended with status")


def test_exit_reason_is_the_cause(tmp_path):
    (tmp_path / "pytest.log").write_text("493 deselected in 0.47s\n! _pytest.outcomes.Exit: --driver "
                                         "'exec:x': exec driver command not found: x !\n")
    assert pytest_problem(3, None, tmp_path).startswith(
        "pytest stopped: --driver 'exec:x': exec driver command not found: x (see ")


def test_no_problem_when_pytest_ran(tmp_path):
    assert pytest_problem(0, None, tmp_path) is None and pytest_problem(1, None, tmp_path) is None
