"""Case selection: features, id prefixes, regexes, include/exclude lists, maximum level."""

import pytest

from conformance.report.selection import Selection, SelectionError, read_list
from report_fakes import CASE, OTHER


def test_selection_by_feature_id_regex_and_lists(tmp_path):
    """Features, id prefixes, regexes and include/exclude lists narrow the cases."""
    assert Selection(features=[CASE.feature]).case_wanted(CASE)
    assert not Selection(features=[OTHER.feature]).case_wanted(CASE)
    assert Selection(ids=[CASE.id[:8]]).case_wanted(CASE)
    assert not Selection(regex=["^nomatch$"]).case_wanted(CASE)
    listing = tmp_path / "exclude.txt"
    listing.write_text(f"# comment\n{CASE.id}  # this one\n\n")
    assert read_list(str(listing)) == [CASE.id]
    assert not Selection(exclude=read_list(str(listing))).case_wanted(CASE)
    assert not Selection(max_level="xml").wants(CASE.feature, [CASE.id], "host")
    with pytest.raises(SelectionError):
        Selection(regex=["("])


def test_an_empty_parameter_set_covers_no_case():
    """A driver whose domains form no live group (it answers nothing, a hung driver) leaves
    pytest's placeholder item of an empty parametrization (its parameter is NOTSET): it
    covers no case (it made the collector raise, so certify reported nothing)."""
    from types import SimpleNamespace

    from _pytest.mark.structures import NOTSET

    from conformance.report.selection import item_cases
    item = SimpleNamespace(callspec=SimpleNamespace(params={"live_group": NOTSET}),
                           originalname="test_host", name="test_host[NOTSET]")
    assert item_cases(item) is None
