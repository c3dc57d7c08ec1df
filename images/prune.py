"""Prune the image cache: keep the newest N image and kernel dirs, every one in use and
every one used in the last RECENT_S seconds. Stdlib only.

Image dirs are ``<cache-dir>/<64 hex>/`` and kernel dirs ``<cache-dir>/kernels/<64 hex>/``
(images/build.py, images/minimal_kernel.py). "Newest" is the mtime of a dir's
manifest.json: set when it is built, renewed by :func:`mark_used` on every cache hit, so
an image a session keeps using stays, and one used within RECENT_S stays whatever its rank
(another checkout running its suite now may have started with it). A kernel is in use
when a kept image names it (manifest ``kernel_key``).
Callers hold the cache's build lock, so no build is half-published while this runs.
"""
import json
import os
import re
import shutil
import time

KEEP = 3
RECENT_S = 24 * 3600
KEY = re.compile(r"^[0-9a-f]{64}$")


def cache_dirs(directory):
    """[(mtime, path)] of the finished keyed dirs in ``directory``, newest first."""
    found = []
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        manifest = os.path.join(directory, name, "manifest.json")
        if KEY.match(name) and os.path.isfile(manifest):
            found.append((os.path.getmtime(manifest), os.path.join(directory, name)))
    return sorted(found, reverse=True)


def mark_used(path):
    """Renew ``path``'s manifest mtime (best effort: a reader may not own the cache)."""
    try:
        os.utime(os.path.join(path, "manifest.json"))
    except OSError:
        pass


def to_remove(dirs, keep, in_use, used_before=float("inf")):
    """Paths of ``dirs`` (newest first) beyond the newest ``keep`` whose key is not in
    ``in_use`` and that were last used before ``used_before`` (a time stamp)."""
    return [path for mtime, path in dirs[keep:]
            if os.path.basename(path) not in in_use and mtime < used_before]


def kernel_key_of(image_dir):
    try:
        with open(os.path.join(image_dir, "manifest.json")) as f:
            return json.load(f).get("kernel_key")
    except (OSError, ValueError):
        return None


def prune(cache_dir, keep=KEEP, in_use=(), kernels_in_use=(), recent_s=RECENT_S, now=None):
    """Remove old image and kernel dirs; return the removed paths (images first)."""
    if keep < 0:
        raise ValueError("keep must be >= 0")
    used_before = (time.time() if now is None else now) - recent_s
    images = cache_dirs(cache_dir)
    removed = to_remove(images, keep, set(in_use), used_before)
    kept_kernels = {kernel_key_of(path) for _, path in images if path not in removed}
    removed += to_remove(cache_dirs(os.path.join(cache_dir, "kernels")), keep,
                         kept_kernels | set(kernels_in_use), used_before)
    for path in removed:
        shutil.rmtree(path)
    return removed
