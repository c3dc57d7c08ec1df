"""The suite and the image recipe are found in a checkout and in an installed wheel, and a
missing one is a named error (not pytest's "file not found" status 4)."""

from pathlib import Path

import pytest

from conformance import locations
from conformance.run.child import LIVE_TESTS, XML_TESTS, suite_argv


def test_checkout_files_are_found():
    assert (locations.suite_dir() / "test_live_features.py").is_file()
    assert (locations.images_dir() / "init").is_file()


def test_installed_copy_wins(tmp_path, monkeypatch):
    package = tmp_path / "site-packages" / "conformance"
    for sub, marker in (("suite", "test_xml_catalogue.py"), ("images", "build.py")):
        (package / sub).mkdir(parents=True)
        (package / sub / marker).write_text("")
    monkeypatch.setattr(locations, "PACKAGE", package)
    assert locations.suite_dir() == package / "suite"
    assert locations.images_dir() == package / "images"


def test_missing_suite_is_named(tmp_path, monkeypatch):
    monkeypatch.setattr(locations, "PACKAGE", tmp_path / "conformance")
    monkeypatch.setattr(locations, "CHECKOUT", tmp_path)
    with pytest.raises(locations.InstallationIncomplete, match="certification suite is missing"):
        locations.suite_dir()


def test_child_reads_no_ini_file_and_names_every_module():
    """The pytest child gets its settings on the command line (-c os.devnull), so an
    installed suite runs as the checkout's does."""
    argv, root = suite_argv(XML_TESTS + LIVE_TESTS)
    assert argv[argv.index("-c") + 1] == "/dev/null" and "--strict-markers" in argv
    assert all(Path(path).is_file() for path in argv[:len(XML_TESTS + LIVE_TESTS)])
    assert Path(argv[0]).relative_to(root).as_posix() == "tests/conformance/test_xml_catalogue.py"
