"""The namespace test hosts are the project's test infrastructure: the wheel does not carry
them and a user's pytest session (the installed plugin) has no ``namespace_hosts``; the
project's own session (tests/conftest.py) has it."""

import re
import subprocess
import sys
from pathlib import Path

import setuptools

ROOT = Path(__file__).resolve().parents[2]


def fixtures_listed(cwd: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pytest", "--fixtures", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


def test_a_users_session_has_the_plugin_but_no_test_hosts(tmp_path):
    (tmp_path / "test_mine.py").write_text("def test_nothing():\n    pass\n")
    listed = fixtures_listed(tmp_path, "test_mine.py")
    assert "fixtures/lab.py" in listed  # the installed plugin is loaded ...
    assert "namespace_hosts" not in listed  # ... without the project's test hosts


def test_the_projects_session_has_the_test_hosts():
    assert "namespace_hosts [session scope]" in fixtures_listed(ROOT, "tests/functional/test_testhosts.py")


def shipped_files() -> list[Path]:
    """The .py files of every package setup.py puts in the wheel."""
    found = {}
    real_setup = setuptools.setup
    setuptools.setup = lambda **kwargs: found.update(kwargs)
    try:
        exec(compile((ROOT / "setup.py").read_text(), "setup.py", "exec"), {"__name__": "setup"})
    finally:
        setuptools.setup = real_setup
    files = []
    for package in found["packages"]:
        mapped = found.get("package_dir", {}).get(package, package.replace(".", "/"))
        files += (ROOT / mapped).glob("*.py")
    return files


def test_the_wheel_carries_no_test_host():
    files = shipped_files()
    assert any(path.name == "plugin.py" for path in files)
    assert not [path for path in files if "testhost" in path.name or "support" in path.parts]
    importing = re.compile(r"^\s*(from|import)\s+(support\b|\S*testhost)", re.MULTILINE)
    assert not [path for path in files if importing.search(path.read_text())]
