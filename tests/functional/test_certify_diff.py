"""`conformance diff` of two real certifications (level xml: no guest, no lock needed): the
reference's, which passes, and a broken driver's, which fails (each failure's driver XML
linked from all four reports): the diff names exactly the
cases that fail, exits 1, and writes a page whose links open; the other way round nothing
regressed."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from lxml import html

from support.artifact_links import assert_artifacts_everywhere

pytestmark = pytest.mark.functional
TESTS = Path(__file__).resolve().parents[1]


def certify(out: Path, driver: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", driver, "--level", "xml",
                    "--feature", "watchdog", "--output-dir", str(out), "--no-progress"],
                   capture_output=True, text=True, timeout=600, env=env)
    return json.loads((out / "report.json").read_text())


def diff(*args):
    return subprocess.run([sys.executable, "-m", "conformance.cli", "diff", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_diff_of_a_passing_and_a_failing_certification_names_the_failing_cases(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    assert certify(good, "reference")["certification"]["verdict"] == "certified"
    failed = [c for c in certify(bad, "broken_drivers.watchdog_flavor_wins:driver")["cases"]
              if c["verdict"] in ("fail", "error")]
    for case in failed:  # level 1 keeps the driver's XML, linked from all four reports
        assert_artifacts_everywhere(bad, case)
    failing = {c["id"] for c in failed}
    assert failing
    done = diff(good, bad)
    assert done.returncode == 1, done.stdout + done.stderr
    block = done.stdout.split("new failure (", 1)[1].splitlines()[1:]
    block = block[:next(n for n, line in enumerate(block) if not line.startswith("  "))]
    named = {re.search(r" id-([0-9a-f-]{36}): pass -> fail", line)[1] for line in block}
    assert named == failing, (sorted(named ^ failing), done.stdout)
    assert f"REGRESSION: {len(failing)} case(s)" in done.stdout
    page = bad / "diff.html"
    tree = html.parse(str(page))
    rows = {r.get("id") for r in tree.iter("tr") if r.get("id")}
    assert rows == {f"case-{i}-xml" for i in failing} | {r for r in rows if not r.endswith("-xml")}
    for anchor in tree.iter("a"):
        target = urlsplit(urljoin(page.resolve().as_uri(), anchor.get("href")))
        assert Path(unquote(target.path)).is_file(), anchor.get("href")
    back = diff(bad, good, "--html", "")
    assert back.returncode == 0 and "no regression" in back.stdout and f"fixed ({len(failing)} case(s))" in back.stdout
