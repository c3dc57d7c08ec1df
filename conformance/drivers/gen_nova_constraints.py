"""Maintainer tool: write ``nova_constraints/<series>.txt`` from a clone of
openstack/requirements, each series' ``upper-constraints.txt`` (the dependency versions that
OpenStack tested that Nova release series with) cut to the packages Nova's dependency
closure uses (the names installed in the given virtualenvs), so that old Nova releases
install with the libraries of their time instead of today's (oslo.utils 9 dropped
``secretutils.md5``, which Nova <= 30 imports).

    python -m conformance.drivers.gen_nova_constraints REQUIREMENTS_GIT_DIR VENV...
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conformance.drivers.nova_versions import CONSTRAINTS, SERIES

HERE = Path(__file__).with_name("nova_constraints")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[=<>;\s\[]", requirement, maxsplit=1)[0]).lower()


def closure(venvs: list[str]) -> set[str]:
    names: set[str] = set()
    for venv in venvs:
        done = subprocess.run([f"{venv}/bin/python", "-m", "pip", "list", "--format=freeze"],
                              capture_output=True, text=True, check=True)
        names |= {_name(line) for line in done.stdout.splitlines() if line.strip()}
    return names


def main(git_dir: str, venvs: list[str]) -> int:
    wanted = closure(venvs)
    for major, (series, ref) in sorted(SERIES.items()):
        text = subprocess.run(["git", "-C", git_dir, "show", f"{ref}:upper-constraints.txt"],
                              capture_output=True, text=True, check=True).stdout
        kept = [line for line in text.splitlines() if line.strip() and not line.startswith("#")
                and _name(line) in wanted and _name(line) != "nova"]
        header = (f"# openstack/requirements {ref} upper-constraints.txt (series {series}, nova {major}.x), "
                  f"cut to Nova's dependency closure by conformance/drivers/gen_nova_constraints.py\n")
        (HERE / CONSTRAINTS.format(series=series)).write_text(header + "\n".join(kept) + "\n")
        print(f"{series}: {len(kept)} constraints")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
