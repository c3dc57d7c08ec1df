"""The guest image, built (or taken from the cache) by the recipe in ``images/``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conformance.contract import Boot
from conformance.errors import HostCapabilityMissing

RECIPE = Path(__file__).resolve().parents[2] / "images" / "build.py"
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


def load_image(variant: str | None = None) -> GuestImage:
    """Build or load the cached guest image (``variant``: minimal, stock, or the default)."""
    variant = variant or os.environ.get("CONFORMANCE_KERNEL") or None
    argv = [sys.executable, str(RECIPE), "--json"] + (["--kernel", variant] if variant else [])
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise HostCapabilityMissing(f"guest image build did not finish in {BUILD_TIMEOUT} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise HostCapabilityMissing(f"guest image build failed (exit {done.returncode}): {tail}")
    data = json.loads(done.stdout)
    return GuestImage(kernel=data["kernel"], initrd=data["initrd"], cmdline=data["cmdline"],
                      loader=data.get("loader"), variant=data.get("variant", variant or "?"),
                      manifest=data["manifest"])
