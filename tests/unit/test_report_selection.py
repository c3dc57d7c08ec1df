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
