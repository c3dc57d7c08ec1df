"""What every failure's artefacts must be, checked on a finished certification: files of the
output directory, readable by whoever ran certify, linked from report.json, report.html (a
link that opens), junit.xml (``[[ATTACHMENT|path]]``) and report.subunit (their content)."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree, html

GUEST_FILES = {"console.log", "qemu.log", "driver-create.xml", "booted-create.xml", "events.json", "qmp.json"}
FAILED = ("fail", "error")


def _file(out: Path, relative: str) -> Path:
    path = out / relative
    info = path.lstat()
    assert stat.S_ISREG(info.st_mode), f"{relative} is not a regular file"
    assert path.resolve().is_relative_to(out.resolve()), f"{relative} leaves the output directory"
    assert info.st_uid == os.getuid() and os.access(path, os.R_OK), f"{relative} is not ours to read"
    return path


def assert_artifacts_everywhere(out: Path, case: dict, operation: str | None = None) -> list[str]:
    """Every failed or errored level of ``case`` (report.json) has its artefacts, and all
    four reports link them; the paths checked."""
    checked = []
    for level, entry in case["levels"].items():
        if entry["status"] not in FAILED:
            continue
        kept = {a["name"]: a for a in entry.get("artifacts") or []}
        want = {"driver.xml"} if level == "xml" else GUEST_FILES | (
            {f"driver-{operation}.xml", f"booted-{operation}.xml"} if operation else set())
        assert want <= {n for n, a in kept.items() if "path" in a}, (level, sorted(kept))
        if level != "xml":
            assert "dmesg.txt" in kept, (level, sorted(kept))  # a file, or why not (agent silent)
        for item in kept.values():
            if "path" in item:
                assert _file(out, item["path"]).stat().st_size == item["bytes"]
                checked.append(item["path"])
    assert checked, f"no artefacts for the failed case {case['id']}"
    _html_links(out, case, checked)
    _junit_attachments(out, case)
    _subunit_attachments(out, checked)
    return checked


def _html_links(out: Path, case: dict, paths: list[str]) -> None:
    page = out / "report.html"
    tree = html.parse(str(page))
    targets = set()
    for anchor in tree.iter("a"):
        link = urljoin(page.resolve().as_uri(), anchor.get("href"))
        parts = urlsplit(link)
        if parts.fragment and parts.path == urlsplit(page.resolve().as_uri()).path:
            assert tree.getroot().get_element_by_id(parts.fragment) is not None, link
            continue
        opened = Path(unquote(parts.path))
        targets.add(opened.relative_to(out.resolve()).as_posix())
        assert opened.is_file() and os.access(opened, os.R_OK), f"link {anchor.get('href')} does not open"
    assert set(paths) <= targets, sorted(set(paths) - targets)
    assert tree.getroot().get_element_by_id(f"case-{case['id']}") is not None


def _junit_attachments(out: Path, case: dict) -> None:
    suite = etree.parse(str(out / "junit.xml")).getroot()
    for level, entry in case["levels"].items():
        if entry["status"] not in FAILED:
            continue
        [test] = [t for t in suite.iter("testcase") if t.get("name") == f"{case['name']}[{level}] id-{case['id']}"]
        text = test.findtext("system-out") or ""
        for item in entry["artifacts"]:
            if "path" in item:
                assert f"[[ATTACHMENT|{item['path']}]]" in text, (level, item["path"])
                _file(out, item["path"])


def _subunit_attachments(out: Path, paths: list[str]) -> None:
    import subunit
    import testtools
    files: dict[str, bytes] = {}

    class Collect(testtools.StreamResult):
        def status(self, file_name=None, file_bytes=None, **_):
            if file_name:
                files[file_name] = files.get(file_name, b"") + bytes(file_bytes or b"")

    subunit.ByteStreamToStreamResult(io.BytesIO((out / "report.subunit").read_bytes())).run(Collect())
    for path in paths:
        assert files.get(path) == (out / path).read_bytes(), f"{path} not attached in report.subunit"
    assert "artifacts" in files
