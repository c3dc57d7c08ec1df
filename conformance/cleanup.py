"""``conformance cleanup``: remove guests and run directories that dead runs left behind.

Selects domains by the ownership marker only (never by name); domains of runs whose
process is still alive are kept unless ``--force``. ``--images`` instead prunes the guest
image cache (images/prune.py): the newest ``--keep`` image and kernel dirs and the
current image stay.
"""

from __future__ import annotations

import argparse

from conformance.lab.connection import DEFAULT_URI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--libvirt-uri", default=DEFAULT_URI, help="libvirt URI (default %(default)s)")
    parser.add_argument("--run", default=None, help="only this run id (even if its process lives)")
    parser.add_argument("--force", action="store_true",
                        help="also remove domains of runs whose process is still alive")
    parser.add_argument("--images", action="store_true",
                        help="prune old guest image and kernel cache dirs instead (no libvirt)")
    parser.add_argument("--keep", type=_count, default=3,
                        help="with --images: how many of the newest dirs to keep (default %(default)s)")
    parser.add_argument("--cache-dir", default=None,
                        help="with --images: the image cache (default /var/lib/conformance/images)")


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, not {text!r}")
    return int(text)


def run(args) -> int:
    if args.images:
        return _prune_images(args)
    from conformance.lab.cleanup import cleanup
    from conformance.lab.connection import open_connection

    from conformance.lab.host import host_access

    conn = open_connection(args.libvirt_uri)
    host = host_access(args.libvirt_uri)
    try:
        report = cleanup(conn, run_id=args.run, force=args.force, host=host)
    finally:
        host.close()
        conn.close()
    for name in report.removed_domains:
        print(f"removed domain {name}")
    for name in report.kept_domains:
        print(f"kept domain {name} (its run is still alive; --force to remove)")
    for name in report.removed_volumes:
        print(f"removed volume {name}")
    for name in report.kept_volumes:
        print(f"kept volume {name} (its run is still alive; --force to remove)")
    for path in report.removed_dirs:
        print(f"removed {path}")
    if not (report.removed_domains or report.kept_domains or report.removed_dirs
            or report.removed_volumes or report.kept_volumes):
        print("nothing to clean up")
    return 0


def _prune_images(args) -> int:
    from conformance.lab.image import prune_images

    removed = prune_images(args.keep, args.cache_dir)
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print(f"nothing to prune (at most {args.keep} image and kernel dirs, or in use)")
    return 0
