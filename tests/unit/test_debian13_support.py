"""The Debian 13 test host's support code that needs no tree: how a pip inside the tree
reaches PyPI the way this machine does (tests/support/debian13_host.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the ``support`` package

from support import debian13_host  # noqa: E402


def test_pip_inside_the_tree_gets_this_machines_variables_ca_and_local_indexes(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("PIP_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    (tmp_path / "ca.crt").write_text("CA")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "mirror/simple").mkdir(parents=True)
    (tmp_path / "pip.conf").write_text(f"[global]\nextra-index-url = file://{tmp_path}/mirror/simple\n"
                                       "find-links = /nonexistent/wheels\n")
    monkeypatch.setattr(debian13_host, "CA_BUNDLE", str(tmp_path / "ca.crt"))
    monkeypatch.setattr(debian13_host, "PIP_CONF", str(tmp_path / "pip.conf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no user pip.conf
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "wheels"))
    monkeypatch.setenv("https_proxy", "http://proxy:3128")
    env, binds = debian13_host.package_access()
    assert env == {"PIP_FIND_LINKS": str(tmp_path / "wheels"), "https_proxy": "http://proxy:3128"}
    # the index's files sit beside simple/, so its parent is bound; what does not exist is not
    assert set(binds) == {str(tmp_path / x) for x in ("ca.crt", "pip.conf", "wheels", "mirror")}
    assert all(inside == outside for outside, inside in binds.items())


def test_nothing_to_pass_on_a_machine_without_pip_configuration(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith("PIP_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(debian13_host, "CA_BUNDLE", str(tmp_path / "none.crt"))
    monkeypatch.setattr(debian13_host, "PIP_CONF", str(tmp_path / "none.conf"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert debian13_host.package_access() == ({}, {})
