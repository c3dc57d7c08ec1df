"""Fixtures of the Debian 13 tests: the cached tree and one Debian 13 test host per session.

The host is stopped at the end of the session and checked to have left nothing: no netns,
veth, process, mount or file (:func:`leftovers`); what is left is an error of the session.
"""

from __future__ import annotations

import fcntl
import os
import shutil

import pytest

from support import debian13_tree as tree_recipe

# Whichever test comes first builds the tree in its set-up (about 20 min here, at most
# debian13_tree.BUILD_TIMEOUT): pytest.ini's 600 s per test would cut it short.
TIMEOUT = pytest.mark.timeout(tree_recipe.BUILD_TIMEOUT + 2400)
LOCK = "/run/lock/cfm-testhosts.lock"  # the namespace hosts' index lock (tests/support/namespace_hosts.py)


def missing() -> str | None:
    if os.geteuid() != 0:
        return "the Debian 13 test host needs root (namespaces, mounts, chroot)"
    for tool in ("mmdebstrap", "unshare", "chroot", "ip", "ssh-keygen", "certtool"):
        if not shutil.which(tool):
            return f"the Debian 13 test host needs {tool} (conformance setup installs it)"
    return None


def leftovers(netns: str, veth: str, directory: str) -> list[str]:
    """What a stopped test host left: its netns or veth, a process whose root or cwd is
    in its directory, a mount of it in any mount namespace, the directory itself."""
    from support.testhosts import _run, netns_list
    found = [f"netns {netns}"] if netns in netns_list() else []
    if _run("ip", "link", "show", veth, check=False).returncode == 0:
        found.append(f"veth {veth}")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/{link}").startswith(directory) for link in ("root", "cwd")):
                found.append(f"process {pid}")
            with open(f"/proc/{pid}/mountinfo") as f:
                if directory in f.read():
                    found.append(f"mount of {directory} seen by process {pid}")
        except OSError:
            continue
    if os.path.exists(directory):
        found.append(f"directory {directory}")
    return found


@pytest.fixture(scope="session")
def debian13_tree():
    """The cached Debian 13 tree (built on first use, about 20 min here; benchmarks/debian13.py)."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    return tree_recipe.build()


@pytest.fixture(scope="session")
def debian13_host(debian13_tree):
    """A started Debian13Host; stopped at the end of the session, and nothing of it left."""
    from support.testhosts import cleanup_stale, free_index
    from support.debian13_host import Debian13Host
    cleanup_stale()
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        host = Debian13Host(free_index(), debian13_tree).start()
    where = (host.netns, host.veth, host.dir)
    yield host
    host.stop()
    assert leftovers(*where) == []
