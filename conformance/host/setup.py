"""``conformance setup``: prepare this host for certifying, what ``./run`` does before every
command: the Debian packages and the libvirt daemons (:mod:`conformance.host.bootstrap`,
through sudo when not root), then the guest image (the recipe in
:func:`conformance.locations.images_dir`, cached by the hash of its inputs).

Each step that does work says so in whole lines ``setup: ...`` on stderr; on a prepared host
it prints nothing. Stdlib only: ``./run`` runs it with the system python3 before its
virtualenv exists (``python3 -m conformance.host.setup``); an installed harness runs
``conformance setup``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from conformance.errors import HarnessError
from conformance.locations import images_dir

BOOTSTRAP_FAILED = 5  # the host cannot run what was asked (conformance.cli's exit codes)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-image", action="store_true",
                        help="only the Debian packages and the daemons, not the guest image")


def run(args) -> int:
    status = bootstrap()
    if status == 0 and not args.no_image:
        status = build_image()
    return status


def bootstrap() -> int:
    """Debian packages, virtlogd/libvirtd, runtime directories; 0 when the host is ready."""
    if os.geteuid() == 0:
        from conformance.host import bootstrap as host_bootstrap
        return BOOTSTRAP_FAILED if host_bootstrap.main(["--quiet"]) else 0
    if not shutil.which("sudo"):
        print("setup: not root and no sudo: run `python3 -m conformance.host.bootstrap` as root "
              "(packages, libvirt daemons, /var/lib/conformance), then this again", file=sys.stderr)
        return BOOTSTRAP_FAILED
    argv = ["sudo", sys.executable, "-m", "conformance.host.bootstrap", "--quiet"]
    return BOOTSTRAP_FAILED if subprocess.run(argv).returncode else 0


def build_image() -> int:
    """Build the guest image, or find it cached (its progress lines on stderr)."""
    done = subprocess.run([sys.executable, str(images_dir() / "build.py")], stdout=subprocess.DEVNULL)
    return BOOTSTRAP_FAILED if done.returncode else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="conformance setup", description=__doc__.splitlines()[0])
    add_arguments(parser)
    try:
        return run(parser.parse_args(argv))
    except HarnessError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)


if __name__ == "__main__":
    sys.exit(main())
