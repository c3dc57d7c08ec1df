"""``conformance cleanup``: remove guests and run directories that dead runs left behind.

Selects domains by the ownership marker only (never by name); domains of runs whose
process is still alive are kept unless ``--force``.
"""

from __future__ import annotations

import argparse

from conformance.lab.connection import DEFAULT_URI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--libvirt-uri", default=DEFAULT_URI, help="libvirt URI (default %(default)s)")
    parser.add_argument("--run", default=None, help="only this run id (even if its process lives)")
    parser.add_argument("--force", action="store_true",
                        help="also remove domains of runs whose process is still alive")


def run(args) -> int:
    from conformance.lab.cleanup import cleanup
    from conformance.lab.connection import open_connection

    conn = open_connection(args.libvirt_uri)
    try:
        report = cleanup(conn, run_id=args.run, force=args.force)
    finally:
        conn.close()
    for name in report.removed_domains:
        print(f"removed domain {name}")
    for name in report.kept_domains:
        print(f"kept domain {name} (its run is still alive; --force to remove)")
    for path in report.removed_dirs:
        print(f"removed {path}")
    if not (report.removed_domains or report.kept_domains or report.removed_dirs):
        print("nothing to clean up")
    return 0
