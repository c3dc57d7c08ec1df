"""Idempotent host bootstrap: the distribution's packages, virtlogd/libvirtd, runtime directories.

Run with the system python3 before the venv exists (stdlib only):

    python3 -m conformance.host.bootstrap [--dry-run] [--quiet]

What to install comes from ``/etc/os-release`` and what apt offers
(:mod:`conformance.host.distro`); which daemons to start from what already runs, under
systemd or not (:mod:`conformance.host.daemons`): a running libvirt is reused, never
started twice. Prints one line per action on stderr ("setup: installing N packages: ...",
"setup: started libvirtd", "setup: created ..."), or "nothing to do" (not with --quiet,
which ./run uses so a prepared host prints nothing). Run by ``conformance setup`` as root,
or through sudo; then the runtime directories belong to the user who called sudo.
"""
import argparse
import os
import shutil
import subprocess
import sys

from conformance.host import daemons, distro

RUNTIME_DIRS = ["/var/lib/conformance/images", "/var/lib/conformance/runs"]
LIBVIRT_SOCKET = daemons.LIBVIRT.sockets[0]


class BootstrapError(RuntimeError):
    """The host could not be prepared."""


# ---- decisions (pure) -------------------------------------------------------

def dirs_to_create(paths, exists):
    """Paths for which `exists(path)` is false."""
    return [p for p in paths if not exists(p)]


def invoking_user(environ):
    """(uid, gid) of the user who ran this through sudo, or None."""
    try:
        uid, gid = int(environ["SUDO_UID"]), int(environ["SUDO_GID"])
    except (KeyError, ValueError):
        return None
    return None if uid == 0 else (uid, gid)


# ---- actions ----------------------------------------------------------------

def apt_get(*args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", *args]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise BootstrapError(f"{' '.join(cmd[:3])} failed: {res.stderr.strip()[-2000:]}")


def start_daemon(name):
    """Start daemon ``name`` the way this host starts it (systemd, or ``NAME -d``)."""
    [daemon] = [d for d in daemons.DAEMONS if d.name == name]
    return daemons.start(daemon, daemons.under_systemd())


def say(line):
    print(f"setup: {line}", file=sys.stderr, flush=True)


def packages(dry_run, out):
    """Install what this distribution lacks; the actions taken."""
    release = distro.os_release()
    if not distro.is_debian_like(release) or not shutil.which("apt-get"):
        missing = [c for c in distro.BY_HAND_COMMANDS if not shutil.which(c)]
        if missing:
            raise BootstrapError(distro.by_hand_line(release, missing))
        return []
    installed = distro.installed_packages()
    first = distro.plan(installed, None)
    if not first.install:
        return []
    if not dry_run:
        apt_get("update")
    decided = distro.plan(installed, distro.offered_packages())
    for note in decided.notes:
        out(note)
    if not decided.install:
        return []
    if not dry_run:
        out(f"installing {len(decided.install)} packages of {distro.name(release)} with apt-get "
            f"(first run only, about 2 min): {' '.join(decided.install)}")
        apt_get("install", "-y", "--no-install-recommends", *decided.install)
    out("installed: " + " ".join(decided.install))
    return ["installed: " + " ".join(decided.install)]


def bootstrap(dry_run=False, out=say, environ=os.environ):
    """Bring the host to the required state; return the list of actions taken."""
    actions = packages(dry_run, out)
    systemd = daemons.under_systemd()
    names = daemons.process_names()
    up = {d.name: daemons.running(d, names) for d in daemons.DAEMONS}
    for daemon in daemons.to_start(up):
        what = daemon.name if dry_run else daemons.start(daemon, systemd)
        actions.append(f"started {what}" + (" (systemd)" if systemd else ""))
        out(actions[-1])
    if not dry_run:
        try:
            daemons.wait_for_libvirt()
        except daemons.DaemonError as exc:
            raise BootstrapError(str(exc)) from None
    owner = invoking_user(environ)
    for path in dirs_to_create(RUNTIME_DIRS, os.path.isdir):
        if not dry_run:
            os.makedirs(path, mode=0o755, exist_ok=True)
            os.chmod(path, 0o755)
            os.chmod(os.path.dirname(path), 0o755)
            if owner:  # the image build and the runs' files are the sudo caller's
                os.chown(path, *owner)
        actions.append(f"created {path}" + (f" (owner uid {owner[0]})" if owner else ""))
        out(actions[-1])
    return actions


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="only print what would be done")
    p.add_argument("--quiet", action="store_true", help="print nothing when nothing is to be done")
    a = p.parse_args(argv)
    if os.geteuid() != 0 and not a.dry_run:
        print("bootstrap must run as root (conformance setup runs it through sudo)", file=sys.stderr)
        return 2
    try:
        if not bootstrap(dry_run=a.dry_run) and not a.quiet:
            say("nothing to do")
    except (BootstrapError, daemons.DaemonError) as e:
        print(f"setup: {e}" if "has no apt" in str(e) else f"bootstrap failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
