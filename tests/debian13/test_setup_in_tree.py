"""Set-up on Debian 13 itself: inside the Debian 13 tree (a chroot on this machine's
network, in its own mount and PID namespaces), a fresh clone's ``./run certify --level xml``
passes and its image build passes: set-up picks Debian 13's packages (already installed
when the tree was built by the same set-up), starts that tree's libvirtd, builds the guest
image from the tree's kernel source package (the kernel itself is cached in the tree), and
creates the virtualenv from PyPI."""

from __future__ import annotations

import glob
import json
import subprocess
from pathlib import Path

import pytest

from debian13.conftest import TIMEOUT, leftovers
from support.debian13_host import in_tree

pytestmark = [pytest.mark.functional, pytest.mark.debian13, pytest.mark.exclusive, TIMEOUT]
ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
set -e
git clone -q /src/clone /root/clone
cd /root/clone
./run certify --level xml --output-dir /root/out --no-progress
python3 images/build.py --json > /root/image.json
python3 - <<'PY'
import glob
import json
report = json.load(open("/root/out/report.json"))
image = json.load(open("/root/image.json"))
print("RESULT", json.dumps({"verdict": report["certification"]["verdict"], "summary": report["summary"],
                           "libvirt": report["host"]["capabilities"].get("libvirt_version"),
                           "variant": image["variant"], "manifest": json.load(open(image["manifest"]))}))
PY
"""


def test_fresh_clone_inside_the_tree_certifies_at_level_xml_and_builds_the_image(debian13_tree, tmp_path):
    subprocess.run(["git", "clone", "-q", str(ROOT), str(tmp_path / "clone")], check=True, timeout=120)
    log = tmp_path / "in-tree.log"
    status = in_tree(debian13_tree, SCRIPT, timeout=1500, log=str(log), binds={str(tmp_path): "/src"})
    output = log.read_text()
    # its chroot's processes (libvirtd among them), mounts and overlay are gone
    assert leftovers("-", "-", in_tree_dir_prefix()) == [] and not glob.glob(in_tree_dir_prefix() + "*")
    assert status == 0, output[-6000:]
    [line] = [x for x in output.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line[len("RESULT "):])
    assert result["verdict"] == "certified" and result["summary"]["pass"] == result["summary"]["total"] > 100
    assert result["libvirt"].startswith("11.")
    assert result["variant"] == "minimal"  # built from Debian 13's linux-source-6.12
    assert result["manifest"]["kernel_release"].startswith("6.12")
    assert result["manifest"]["packages"]["busybox-static"] != ""


def in_tree_dir_prefix() -> str:
    from support.debian13_host import STATE_ROOT
    return f"{STATE_ROOT}/cfm-d13-"
