"""The guest image, built (or taken from the cache) by the recipe in ``images/`` (installed:
``conformance/images/``; :func:`conformance.locations.images_dir`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.contract import Boot
from conformance.errors import HostCapabilityMissing
from conformance.locations import images_dir

BUILD_TIMEOUT = 900  # a cold minimal-kernel build takes ~6 min on 2 cores


@dataclass(frozen=True)
class GuestImage:
    kernel: str
    initrd: str
    cmdline: str
    loader: str | None
    variant: str
    manifest: str

    @property
    def boot(self) -> Boot:
        return Boot(kernel=self.kernel, initrd=self.initrd, cmdline=self.cmdline)

    @property
    def digest(self) -> str:
        return Path(self.manifest).parent.name[:12]


def _recipe(argv: list[str], what: str) -> dict:
    """Run images/build.py with ``argv`` + ``--json``; its JSON answer, or HostCapabilityMissing."""
    try:
        done = subprocess.run([sys.executable, str(images_dir() / "build.py"), "--json", *argv],
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise HostCapabilityMissing(f"{what} did not finish in {BUILD_TIMEOUT} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise HostCapabilityMissing(f"{what} failed (exit {done.returncode}): {tail}")
    return json.loads(done.stdout)


def prune_images(keep: int, cache_dir: str | None = None) -> list[str]:
    """Remove all but the newest ``keep`` image and kernel cache dirs (never the current
    image); return the removed paths."""
    variant = os.environ.get("CONFORMANCE_KERNEL")
    argv = ["--prune", "--keep", str(keep)] + (["--kernel", variant] if variant else [])
    return _recipe(argv + (["--cache-dir", cache_dir] if cache_dir else []), "image cache prune")["removed"]


def load_image(variant: str | None = None) -> GuestImage:
    """Build or load the cached guest image (``variant``: minimal, stock, or the default)."""
    variant = variant or os.environ.get("CONFORMANCE_KERNEL") or None
    data = _recipe(["--kernel", variant] if variant else [], "guest image build")
    return GuestImage(kernel=data["kernel"], initrd=data["initrd"], cmdline=data["cmdline"],
                      loader=data.get("loader"), variant=data.get("variant", variant or "?"),
                      manifest=data["manifest"])
