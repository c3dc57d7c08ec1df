"""Command line: ``conformance SUBCOMMAND``. Each subcommand lives in its own module.

Exit codes: 0 success, 1 conformance failures, 2 usage, 3 bad driver spec,
4 bad configuration, 5 host cannot run what was asked, 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from conformance.errors import HarnessError

# subcommand -> (module, help). Each module defines add_arguments(parser) and run(args) -> int.
SUBCOMMANDS = {
    "driver-exec": ("conformance.drivers.exec_server", "serve a Python driver over the exec protocol (one request on stdin)"),
    "setup": ("conformance.host.setup", "prepare this host: Debian packages, libvirt daemons, the guest image"),
    "certify": ("conformance.run.command", "certify a driver: run the catalogue, write JSON/JUnit/HTML reports"),
    "merge": ("conformance.merge", "join single-host certifications made apart (CI jobs) into one fleet report"),
    "matrix": ("conformance.matrix", "certify several Nova releases (--nova X.Y.Z ...): release x feature table"),
    "list": ("conformance.listing", "list the conformance cases and whether this host can run each level"),
    "host-check": ("conformance.host_check", "what this host supports (accelerator, memlock, PMU, ...) and why"),
    "diff": ("conformance.report.diff", "what changed between two certifications (report.json or output directories)"),
    "verify-report": ("conformance.report.verify", "check a report.json against its digest"),
    "cleanup": ("conformance.cleanup", "remove guests and files left by runs that died (by ownership marker)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="conformance", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        child = sub.add_parser(name, help=help_text)
        child.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(child)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return importlib.import_module(args._module).run(args)
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    except HarnessError as exc:
        print(f"conformance: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)


if __name__ == "__main__":
    sys.exit(main())
