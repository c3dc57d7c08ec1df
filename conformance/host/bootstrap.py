"""Idempotent host bootstrap: Debian packages, virtlogd/libvirtd, runtime directories.

Run with the system python3 before the venv exists (stdlib only):

    python3 -m conformance.host.bootstrap [--dry-run] [--quiet]

Prints one line per action on stderr ("setup: installing N Debian packages: ...",
"setup: started libvirtd", "setup: created ..."), or "nothing to do" (not with --quiet,
which ./run uses so a prepared host prints nothing). Decisions (what is missing, what to start) are pure functions
so they can be unit tested with the system calls mocked.
"""
import argparse
import os
import socket
import subprocess
import sys
import time

PACKAGES = [
    # hypervisor + libvirt
    "qemu-system-x86", "qemu-utils", "libvirt-daemon-system", "libvirt-clients",
    "libvirt-dev", "pkg-config",
    # guest image (images/build.py)
    "linux-image-amd64", "busybox-static", "qemu-guest-agent", "rng-tools5", "linux-perf",
    "cpio", "gzip", "kmod", "gcc", "libc6-dev",
    # venv
    "python3-venv",
    # minimal guest kernel (images/minimal_kernel.py)
    "linux-source-6.1", "bc", "flex", "bison", "libelf-dev", "libssl-dev", "make",
    "xz-utils", "lz4",
    # the HTML report is checked in a real headless browser (tests/functional)
    "chromium",
    # remote test hosts in namespaces (tests/support/testhosts.py; certtool: their TLS keys)
    "openssh-server", "gnutls-bin",
]
RUNTIME_DIRS = ["/var/lib/conformance/images", "/var/lib/conformance/runs"]
LIBVIRT_SOCKET = "/run/libvirt/libvirt-sock"
DAEMONS = [  # (name, pid file, socket), started in this order
    ("virtlogd", "/run/virtlogd.pid", "/run/libvirt/virtlogd-sock"),
    ("libvirtd", "/run/libvirtd.pid", LIBVIRT_SOCKET),
]
SOCKET_DEADLINE = 30.0


class BootstrapError(RuntimeError):
    """The host could not be prepared."""


# ---- decisions (pure) -------------------------------------------------------

def missing_packages(wanted, dpkg_status_output):
    """Packages of `wanted` not fully installed, given `dpkg-query -W -f='${Package}\\t${Status}\\n'` output."""
    installed = set()
    for line in dpkg_status_output.splitlines():
        name, _, status = line.partition("\t")
        if status.strip() == "install ok installed":
            installed.add(name.split(":")[0])
    return [p for p in wanted if p not in installed]


def daemons_to_start(running):
    """Daemon names (in start order) whose running-state in `running` is False."""
    return [name for name, _, _ in DAEMONS if not running.get(name, False)]


def dirs_to_create(paths, exists):
    """Paths for which `exists(path)` is false."""
    return [p for p in paths if not exists(p)]


# ---- probes -----------------------------------------------------------------

def dpkg_status(packages):
    """Raw dpkg-query status lines for `packages` (unknown packages are simply absent)."""
    res = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Status}\n"] + list(packages),
                         capture_output=True, text=True)
    return res.stdout


def pid_alive(pid_file):
    """True when `pid_file` names a live process."""
    try:
        with open(pid_file) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def socket_accepts(path, timeout=1.0):
    """True when a unix stream socket at `path` accepts a connection."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def daemon_running(pid_file, sock):
    return pid_alive(pid_file) or socket_accepts(sock)


def wait_for_socket(path, deadline_s=SOCKET_DEADLINE, accepts=socket_accepts,
                    clock=time.monotonic, pause=time.sleep):
    """Poll until `path` accepts connections; raise BootstrapError after `deadline_s`."""
    end = clock() + deadline_s
    while True:
        if accepts(path):
            return
        if clock() >= end:
            raise BootstrapError(f"{path} did not accept connections within {deadline_s:.0f} s "
                                 "(is libvirtd running? try `libvirtd -d`)")
        pause(0.2)


# ---- actions ----------------------------------------------------------------

def install(packages):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"],
                ["apt-get", "install", "-y", "--no-install-recommends"] + list(packages)):
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if res.returncode != 0:
            raise BootstrapError(f"{' '.join(cmd[:3])} failed: {res.stderr.strip()[-2000:]}")


REAPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reaper.py")


def start_daemon(name):
    """Start ``name -d``. libvirtd runs under reaper.py, which reaps its QEMU processes at
    once (pid 1 of some machines takes seconds, and every guest stop waits for it)."""
    if name == "libvirtd":
        # The reaper outlives this call (it waits for the daemon and its guests); its own
        # exit status is not the daemon's, so success is judged by the socket afterwards.
        subprocess.Popen([sys.executable, REAPER, name, "-d"], cwd="/", start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, close_fds=True)
        return
    res = subprocess.run([name, "-d"], capture_output=True, text=True)
    if res.returncode != 0:
        raise BootstrapError(f"{name} -d failed: {res.stderr.strip()}")


def say(line):
    print(f"setup: {line}", file=sys.stderr, flush=True)


def bootstrap(dry_run=False, out=say):
    """Bring the host to the required state; return the list of actions taken."""
    actions = []
    missing = missing_packages(PACKAGES, dpkg_status(PACKAGES))
    if missing:
        if not dry_run:
            out(f"installing {len(missing)} Debian packages with apt-get (first run only, "
                f"about 2 min): {' '.join(missing)}")
            install(missing)
        actions.append("installed: " + " ".join(missing))
        out(actions[-1])
    running = {name: daemon_running(pid, sock) for name, pid, sock in DAEMONS}
    for name in daemons_to_start(running):
        if not dry_run:
            start_daemon(name)
        actions.append(f"started {name}")
        out(actions[-1])
    if not dry_run:
        wait_for_socket(LIBVIRT_SOCKET)
    for path in dirs_to_create(RUNTIME_DIRS, os.path.isdir):
        if not dry_run:
            os.makedirs(path, mode=0o755, exist_ok=True)
            os.chmod(path, 0o755)
            os.chmod(os.path.dirname(path), 0o755)
        actions.append(f"created {path}")
        out(actions[-1])
    return actions


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dry-run", action="store_true", help="only print what would be done")
    p.add_argument("--quiet", action="store_true", help="print nothing when nothing is to be done")
    a = p.parse_args(argv)
    if os.geteuid() != 0 and not a.dry_run:
        print("bootstrap must run as root", file=sys.stderr)
        return 2
    try:
        if not bootstrap(dry_run=a.dry_run) and not a.quiet:
            say("nothing to do")
    except BootstrapError as e:
        print(f"bootstrap failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
