"""A remote libvirt test host of another release: Debian 13's libvirtd 11 and QEMU 10.

Like :class:`NamespaceHost` (netns ``cfm-hN``, veth 10.251.N.2, TLS with its own CA and
ssh with its own key), but its PID 1 runs chrooted in the cached Debian 13 tree
(:mod:`support.debian13_tree`) mounted as an overlay: the tree stays as built, every write
goes to the host's temp dir. Its libvirtd, virtlogd, sshd and QEMU are Debian 13's.
Stopping it kills the PID namespace, which takes its mounts with it; then the temp dir,
veth and netns go. ``in_tree(script)`` runs a script in the same kind of chroot on this
machine's network (no daemons: for a fresh clone's ``./run`` inside the tree).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from support.testhosts import LIBVIRTD_CONF, SSHD_CONF, STATE_ROOT, NamespaceHost

from support import debian13_tree

# The tree's libvirt 11 cannot build QEMU's private /dev inside the chroot (QEMU then fails
# with "Could not open '/dev/urandom'"): its QEMU uses the chroot's /dev, this machine's.
QEMU_CONF = "\n# Debian 13 test host (tests/support/debian13_host.py)\nnamespaces = []\n"
CA_BUNDLE, PIP_CONF = "/etc/ssl/certs/ca-certificates.crt", "/etc/pip.conf"
# Runs chrooted in the merged tree as PID 1 of the new PID namespace; $D is the host's temp
# dir, mounted at the same path inside.
INIT_IN_TREE = r"""
set -e
mkdir -p /run/libvirt /run/sshd /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu
virtlogd -d
/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
libvirtd --listen -f /etc/libvirt/libvirtd.conf >"$D/libvirtd.log" 2>&1 &
echo $! > "$D/libvirtd.nspid"
trap 'exit 0' TERM
while :; do sleep 3600 & wait $! || true; done
"""


def mount_tree(tree: Path, upper: str, merged: str) -> str:
    """:func:`debian13_tree.mount_script`, then the tree's kvm group takes the gid of this
    machine's /dev/kvm (its /dev is this machine's): else the tree's libvirt finds KVM
    usable when it probes QEMU and unusable at every later lookup, so its capabilities
    never stay cached and it probes QEMU again for every domain it defines (in the overlay:
    the tree keeps its own /etc/group)."""
    return (debian13_tree.mount_script(tree, upper, merged)
            + f"[ ! -e /dev/kvm ] || chroot {merged} groupmod -o -g \"$(stat -c %g /dev/kvm)\" kvm\n")


def _binds(d: str, merged: str) -> str:
    """The host's temp dir at the same path inside, its libvirt config and root's ssh keys."""
    return "\n".join([
        f"mkdir -p {merged}{d} && mount --bind {d} {merged}{d}",
        f"mount --bind {d}/etc-libvirt {merged}/etc/libvirt",
        f"mkdir -p {merged}/root/.ssh && mount --bind {d}/root-ssh {merged}/root/.ssh", ""])


class Debian13Host(NamespaceHost):
    """Namespace test host ``cfm-h<index>`` running the Debian 13 tree ``tree``."""

    __test__ = False

    def __init__(self, index: int, tree: Path, ready_timeout: float = 60.0):
        super().__init__(index, ready_timeout=ready_timeout)
        self.tree = Path(tree)

    def start(self) -> "Debian13Host":
        try:
            self._prepare_dir()
            self._network()
            merged = os.path.join(self.dir, "merged")
            script = (mount_tree(self.tree, os.path.join(self.dir, "upper"), merged)
                      + _binds(self.dir, merged) + f"exec chroot {merged} /bin/sh -c \"$CFM_INIT\"\n")
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--pid", "--fork",
                 "sh", "-c", script], env=dict(os.environ, D=self.dir, CFM_INIT=INIT_IN_TREE), start_new_session=True,
                stdout=open(os.path.join(self.dir, "init.log"), "w"), stderr=subprocess.STDOUT)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _prepare_dir(self) -> None:
        """The base host's keys and configuration, with the tree's own /etc/libvirt."""
        super()._prepare_dir()
        etc = os.path.join(self.dir, "etc-libvirt")
        conf = Path(etc, "libvirtd.conf").read_text()
        shutil.rmtree(etc)
        shutil.copytree(self.tree / "etc/libvirt", etc, symlinks=True)
        for sub in ("qemu", "storage", "nwfilter", "secrets"):
            shutil.rmtree(os.path.join(etc, sub), ignore_errors=True)
        os.makedirs(os.path.join(etc, "qemu", "networks"))
        os.makedirs(os.path.join(etc, "storage"))
        Path(etc, "libvirtd.conf").write_text(conf)
        with open(os.path.join(etc, "qemu.conf"), "a") as f:
            f.write(QEMU_CONF)
        assert LIBVIRTD_CONF and SSHD_CONF  # the same daemons' settings as the base host's

    def leftovers(self) -> list[str]:
        """The base host's leftovers, less the files the tree itself ships (its image cache,
        made when the tree was built, and packages' placeholders)."""
        return [item for item in super().leftovers()
                if not (item.startswith("file /") and os.path.lexists(self.tree / item[len("file /"):]))]


def package_access() -> tuple[dict[str, str], dict[str, str]]:
    """How this machine reaches PyPI, for a pip inside the tree: (environment, binds). Its
    ``PIP_*`` and proxy variables, its CA bundle (a TLS-intercepting proxy's CA is only in
    this machine's), its pip.conf files (/etc, root's) and the local directories those name
    (find-links, ``file://`` indexes), each bound read only at the same path (HOME is /root
    inside, as outside for root)."""
    env = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")}
    confs = [PIP_CONF, os.path.expanduser("~/.config/pip/pip.conf"), os.path.expanduser("~/.pip/pip.conf")]
    files = [CA_BUNDLE] + confs
    text = " ".join(env.values()) + " ".join(Path(c).read_text() for c in confs if os.path.isfile(c))
    for found in re.finditer(r"(?:file://)?(/[^\s'\"]+)", text):  # an index's files are beside simple/
        path = found.group(1).rstrip("/")
        files.append(os.path.dirname(path) if path.endswith("/simple") else path)
    return env, {path: path for path in dict.fromkeys(files) if os.path.exists(path)}


def in_tree(tree: Path, script: str, timeout: float, log: str, env: dict | None = None,
            binds: dict[str, str] | None = None) -> int:
    """Run ``script`` (sh) chrooted in an overlay of ``tree`` on this machine's network, in
    its own mount and PID namespaces, with this machine's way to PyPI (:func:`package_access`);
    ``binds``: host path -> path inside (read only). Everything it writes is dropped
    afterwards. Its exit status; output to ``log``."""
    pip_env, pip_binds = package_access()
    binds = {**pip_binds, **(binds or {})}
    work = tempfile.mkdtemp(prefix="cfm-d13-", dir=STATE_ROOT)
    try:
        merged = os.path.join(work, "merged")
        lines = [mount_tree(tree, os.path.join(work, "upper"), merged)]
        for outside, inside in (binds or {}).items():
            make = "mkdir -p" if os.path.isdir(outside) else "mkdir -p \"$(dirname {0})\" && touch".format(
                f"{merged}{inside}")
            lines.append(f"{make} {merged}{inside} && mount --bind -o ro {outside} {merged}{inside}")
        lines.append(f"exec chroot {merged} /bin/sh -c \"$CFM_SCRIPT\"")
        with open(log, "w") as out:
            proc = subprocess.Popen(["unshare", "--mount", "--pid", "--fork", "--kill-child",
                                     "sh", "-c", "\n".join(lines)],
                                    env=dict(env or {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"},
                                             **pip_env, CFM_SCRIPT=script),
                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                return proc.wait(timeout=timeout)
            except BaseException:  # a timeout, Ctrl-C: its namespaces go with its processes
                os.killpg(proc.pid, 9)
                proc.wait(10)
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
