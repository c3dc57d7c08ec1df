"""``conformance cleanup``: remove guests and run directories that dead runs left behind.

Selects domains by the ownership marker only (never by name); domains of runs whose
process is still alive are kept unless ``--force``. Temp dirs of a certify process that is
gone (killed with SIGKILL) are removed from this machine too
(``lab.runs.remove_dead_temp_dirs``). ``--images`` instead prunes the guest image cache
(images/prune.py): the newest ``--keep`` image and kernel dirs and the current image stay. ``--host [NAME=]URI`` (repeatable) cleans several libvirt hosts: one
that cannot be reached is reported (exit 1), the others are still cleaned.
"""

from __future__ import annotations

import argparse

from conformance.lab.connection import DEFAULT_URI

HOST_TIMEOUT = 120.0  # seconds for one host's cleanup (open, list, destroy its guests)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--libvirt-uri", default=None, help=f"libvirt URI (default {DEFAULT_URI})")
    parser.add_argument("--host", action="append", default=[], metavar="[NAME=]URI",
                        help="clean this libvirt host (repeatable; instead of --libvirt-uri)")
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
    from conformance.lab.runs import remove_dead_temp_dirs
    temp_dirs = [] if args.run else remove_dead_temp_dirs()  # certify's, on this machine
    for path in temp_dirs:
        print(f"removed {path}")
    if not args.host:
        from conformance.run.leftovers import clean_one
        _print(clean_one(args.libvirt_uri or DEFAULT_URI, {"run_id": args.run, "force": args.force}),
               quiet=bool(temp_dirs))
        return 0
    return _clean_hosts(args)


def _clean_hosts(args) -> int:
    """Every ``--host`` in turn (each bounded); exit 1 when any host could not be cleaned."""
    from conformance.errors import HostSpecError
    from conformance.run.hosts import parse_hosts
    from conformance.run.leftovers import clean_reports
    if args.libvirt_uri:
        raise HostSpecError("give either --libvirt-uri or --host, not both")
    status = 0
    for host in parse_hosts(args.host):
        [(_, report, error)] = clean_reports([host.uri], HOST_TIMEOUT, run_id=args.run, force=args.force)
        if error:
            print(f"host {host.title}: cannot clean up: {error}")
            status = 1
        else:
            _print(report, f"host {host.label}: ")
    return status


def _print(report, prefix: str = "", quiet: bool = False) -> None:
    """What ``report`` removed and kept; "nothing to clean up" unless ``quiet``."""
    for name in report.removed_domains:
        print(f"{prefix}removed domain {name}")
    for name in report.kept_domains:
        print(f"{prefix}kept domain {name} (its run is still alive; --force to remove)")
    for name in report.removed_volumes:
        print(f"{prefix}removed volume {name}")
    for name in report.kept_volumes:
        print(f"{prefix}kept volume {name} (its run is still alive; --force to remove)")
    for path in report.removed_dirs:
        print(f"{prefix}removed {path}")
    if not (quiet or report.removed_domains or report.kept_domains or report.removed_dirs
            or report.removed_volumes or report.kept_volumes):
        print(f"{prefix}nothing to clean up")


def _prune_images(args) -> int:
    from conformance.lab.image import prune_images

    removed = prune_images(args.keep, args.cache_dir)
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print(f"nothing to prune (at most {args.keep} image and kernel dirs, or in use)")
    return 0
