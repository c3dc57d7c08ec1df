"""Remote libvirt test hosts on this machine: netns + veth + private mount/PID namespaces.

``NamespaceHost(n)`` runs its own virtlogd, libvirtd and sshd inside netns ``cfm-hn``; /run,
/var/lib/libvirt, /var/lib/conformance, /tmp, /root/.ssh ... are private. Outside its
namespace the root libvirtd answers only TLS on 10.251.n.2 with this host's own client
certificate (``tls_uri``; :mod:`support.testhost_pki`), or ssh with this host's key
(``ssh_uri``): no unauthenticated connection. ``PYTHONPATH=tests python -m support.testhosts
up N | down``. Test infrastructure of this repository only (never in the wheel).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from conformance.errors import HarnessError, WaitTimeout
from conformance.lab.runs import process_start_time
from conformance.waiters import wait_until_or_raise
from support import testhost_pki

PREFIX = "cfm-h"
STATE_ROOT = "/var/tmp"  # not /tmp: the namespace hides /tmp behind a tmpfs
PRIVATE_TMPFS = ["/run", "/var/run", "/var/lib/libvirt", "/var/log/libvirt", "/var/cache/libvirt",
                 "/var/lib/conformance", "/tmp"]
# TLS only; the client certificate (signed by this host's own CA, with the one allowed DN)
# is the authentication: no TCP listener, no SASL.
LIBVIRTD_CONF = """listen_tls = 1
listen_tcp = 0
auth_tls = "none"
tls_no_verify_certificate = 0
tls_allowed_dn_list = ["CN={client_cn}"]
ca_file = "{ca_file}"
cert_file = "{cert_file}"
key_file = "{key_file}"
listen_addr = "{addr}"
unix_sock_dir = "/run/libvirt"
"""
SSHD_CONF = """ListenAddress {addr}
HostKey {d}/ssh_host_ed25519_key
PermitRootLogin prohibit-password
AuthorizedKeysFile /root/.ssh/authorized_keys
PasswordAuthentication no
UsePAM no
PidFile /run/sshd.pid
StrictModes no
"""
# Runs as PID 1 of the new PID namespace (inside the netns); $D is the host's temp dir.
INIT_SCRIPT = r"""
set -e
mount --make-rprivate /
mount --bind "$D/etc-libvirt" /etc/libvirt
mkdir -p /root/.ssh && mount --bind "$D/root-ssh" /root/.ssh
for p in {tmpfs}; do mkdir -p "$p"; mount -t tmpfs -o mode=0755 tmpfs "$p"; done
mkdir -p /run/libvirt /run/sshd /var/lib/libvirt/qemu /var/lib/libvirt/images /var/log/libvirt/qemu \
  /var/cache/libvirt/qemu
virtlogd -d
/usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"
$LIMIT libvirtd --listen -f /etc/libvirt/libvirtd.conf >"$D/libvirtd.log" 2>&1 &
echo $! > "$D/libvirtd.nspid"
trap 'exit 0' TERM
while :; do sleep 3600 & wait $! || true; done
"""


class TestHostError(HarnessError):
    """A namespace test host could not be started or did not answer in time."""


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=30)


def netns_list() -> list[str]:
    out = _run("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith(PREFIX)]


class NamespaceHost:
    """One remote libvirt host in netns ``cfm-h<index>``; a context manager."""

    __test__ = False

    def __init__(self, index: int, ready_timeout: float = 30.0, memlock: int | None = None):
        """``memlock``: RLIMIT_MEMLOCK (bytes, soft = hard) of this host's libvirtd, e.g. to
        lab a host whose locked-memory capability differs from the others'."""
        self.index, self.ready_timeout, self.memlock = index, ready_timeout, memlock
        self.netns, self.veth = f"{PREFIX}{index}", f"cfmh{index}"
        self.host_address, self.address = f"10.251.{index}.1", f"10.251.{index}.2"
        self.dir: str | None = None
        self.proc: subprocess.Popen | None = None

    # --- URIs -----------------------------------------------------------------------------
    @property
    def pki_dir(self) -> str:
        """This host's client certificate, key and CA (libvirt's pkipath layout)."""
        return os.path.join(self.dir or "", "pki", "client")

    @property
    def tls_uri(self) -> str:
        return f"qemu+tls://{self.address}/system?pkipath={self.pki_dir}"

    @property
    def keyfile(self) -> str:
        return os.path.join(self.dir or "", "id_ed25519")

    @property
    def ssh_uri(self) -> str:
        return f"qemu+ssh://root@{self.address}/system?keyfile={self.keyfile}&no_verify=1&no_tty=1"

    @property
    def ssh_target(self) -> str:
        return f"ssh://root@{self.address}"

    @property
    def ssh_config(self) -> str:
        return os.path.join(self.dir or "", "ssh_config")

    def testinfra_host(self):
        """A testinfra host over ssh (no host-key checks, bounded connect)."""
        import testinfra
        return testinfra.get_host(self.ssh_target, ssh_config=self.ssh_config,
                                  ssh_identity_file=self.keyfile)

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self) -> "NamespaceHost":
        try:
            self._prepare_dir()
            self._network()
            limit = f"prlimit --memlock={self.memlock}:{self.memlock}" if self.memlock else ""
            env = dict(os.environ, D=self.dir, LIMIT=limit)
            script = INIT_SCRIPT.replace("{tmpfs}", " ".join(PRIVATE_TMPFS))
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.netns, "unshare", "--mount", "--pid", "--fork",
                 "--mount-proc", "sh", "-c", script], env=env, start_new_session=True,
                stdout=open(os.path.join(self.dir, "init.log"), "w"), stderr=subprocess.STDOUT)
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _prepare_dir(self) -> None:
        self.dir = tempfile.mkdtemp(prefix=f"{self.netns}-", dir=STATE_ROOT)
        os.chmod(self.dir, 0o755)
        with open(os.path.join(self.dir, "owner"), "w") as f:  # cleanup_stale spares live owners
            f.write(f"{os.getpid()} {process_start_time(os.getpid())}\n")
        etc = os.path.join(self.dir, "etc-libvirt")
        shutil.copytree("/etc/libvirt", etc, symlinks=True)
        for sub in ("qemu", "storage", "nwfilter", "secrets"):
            shutil.rmtree(os.path.join(etc, sub), ignore_errors=True)
        os.makedirs(os.path.join(etc, "qemu", "networks"))
        os.makedirs(os.path.join(etc, "storage"))
        keys = testhost_pki.make(os.path.join(self.dir, "pki"), self.address)
        with open(os.path.join(etc, "libvirtd.conf"), "w") as f:
            f.write(LIBVIRTD_CONF.format(addr=self.address, client_cn=testhost_pki.CLIENT_CN,
                                         **{k: v for k, v in keys.items() if k != "pkipath"}))
        ssh = os.path.join(self.dir, "root-ssh")
        os.makedirs(ssh, mode=0o700)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.keyfile)
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
             os.path.join(self.dir, "ssh_host_ed25519_key"))
        shutil.copy(self.keyfile + ".pub", os.path.join(ssh, "authorized_keys"))
        with open(os.path.join(self.dir, "sshd_config"), "w") as f:
            f.write(SSHD_CONF.format(addr=self.address, d=self.dir))
        with open(self.ssh_config, "w") as f:
            f.write(f"Host {self.address}\n  User root\n  IdentityFile {self.keyfile}\n"
                    "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n"
                    "  ConnectTimeout 10\n  LogLevel ERROR\n")

    def _network(self) -> None:
        _run("ip", "netns", "add", self.netns)
        _run("ip", "link", "add", self.veth, "type", "veth", "peer", "name", "eth0", "netns", self.netns)
        _run("ip", "addr", "add", f"{self.host_address}/30", "dev", self.veth)
        _run("ip", "link", "set", self.veth, "up")
        for cmd in (("addr", "add", f"{self.address}/30", "dev", "eth0"), ("link", "set", "eth0", "up"),
                    ("link", "set", "lo", "up")):
            _run("ip", "-n", self.netns, *cmd)

    def _wait_ready(self) -> None:
        """Bounded wait until libvirtd answers on tls_uri; TestHostError with the log tail."""
        import libvirt
        libvirt.registerErrorHandler(lambda *a: None, None)

        def answers() -> bool:
            if self.proc.poll() is not None:
                raise TestHostError(f"{self.netns}: init exited {self.proc.returncode}; "
                                    f"log tail:\n{self.log_tail()}")
            libvirt.open(self.tls_uri).close()
            return True

        try:
            wait_until_or_raise(answers, self.ready_timeout,
                                f"{self.netns}: libvirtd at {self.tls_uri} not ready",
                                interval=0.3, detail=lambda: f"log tail:\n{self.log_tail()}")
        except WaitTimeout as exc:
            raise TestHostError(str(exc)) from None

    def log_tail(self, lines: int = 20) -> str:
        out = []
        for name in ("init.log", "libvirtd.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    out += [f"[{name}] {x.rstrip()}" for x in f.readlines()[-lines:]]
            except OSError:
                pass
        return "\n".join(out)

    def init_pid(self) -> int | None:
        """Host PID of the PID namespace's PID 1 (the unshare child)."""
        if self.proc is None:
            return None
        try:
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                kids = f.read().split()
            return int(kids[0]) if kids else None
        except OSError:
            return None

    def leftovers(self) -> list[str]:
        """What a harness run could leave on this host, looked at from the host's side:
        domains and storage pools (its libvirtd over TLS) and files under
        /var/lib/conformance, /var/log/libvirt/qemu and /etc/libvirt/storage (over ssh)."""
        import libvirt
        found = []
        conn = libvirt.open(self.tls_uri)
        try:
            found += [f"domain {d.name()}" for d in conn.listAllDomains()]
            for pool in conn.listAllStoragePools():
                found.append(f"pool {pool.name()}")
                if pool.isActive():
                    found += [f"volume {v}" for v in pool.listVolumes()]
        finally:
            conn.close()
        out = subprocess.run(["ssh", "-F", self.ssh_config, self.address,
                              "find /var/lib/conformance /var/log/libvirt/qemu /etc/libvirt/storage "
                              "-mindepth 1 -not -name autostart"],
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise TestHostError(f"{self.netns}: cannot list files over ssh: {out.stderr.strip()}")
        return found + [f"file {p}" for p in out.stdout.split()]

    def kill_libvirtd(self) -> None:
        """SIGKILL this host's libvirtd (its guests stay up)."""
        with open(os.path.join(self.dir, "libvirtd.nspid")) as f:
            nspid = f.read().strip()
        pid1 = self.init_pid()
        # libvirtd is a child of PID 1: find its host PID through NSpid.
        for pid in open(f"/proc/{pid1}/task/{pid1}/children").read().split():
            with open(f"/proc/{pid}/status") as f:
                ns = [ln for ln in f if ln.startswith("NSpid:")]
            if ns and ns[0].split()[-1] == nspid:
                os.kill(int(pid), signal.SIGKILL)
                return

    def stop(self) -> None:
        """Kill PID 1 of the namespace (and so every process in it), drop netns/veth/temp dir."""
        pid1 = self.init_pid()
        if pid1:
            try:
                os.kill(pid1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.proc = None
        _run("ip", "link", "del", self.veth, check=False)
        _run("ip", "netns", "del", self.netns, check=False)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None


def netns_pids(name: str) -> list[int]:
    return [int(p) for p in _run("ip", "netns", "pids", name, check=False).stdout.split()]


def _owner_alive(name: str) -> bool:
    """True when a live process (same pid and start time) owns netns ``name``."""
    for d in os.listdir(STATE_ROOT):
        if d.startswith(f"{name}-"):
            try:
                pid, started = open(os.path.join(STATE_ROOT, d, "owner")).read().split()
            except (OSError, ValueError):
                continue
            if process_start_time(int(pid)) == started:
                return True
    return False


def free_index() -> int:
    """The lowest N with no netns cfm-hN (hosts of concurrent sessions never collide)."""
    taken = set(netns_list())
    return next(i for i in range(1, 250) if f"{PREFIX}{i}" not in taken)


def cleanup_stale() -> list[str]:
    """Remove cfm-h* namespaces (and their processes, veths, temp dirs) left by dead runs."""
    removed = []
    for name in netns_list():
        if _owner_alive(name):
            continue
        for pid in netns_pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        index = name[len(PREFIX):]
        _run("ip", "link", "del", f"cfmh{index}", check=False)
        _run("ip", "netns", "del", name, check=False)
        for d in os.listdir(STATE_ROOT):
            if d.startswith(f"{name}-"):
                shutil.rmtree(os.path.join(STATE_ROOT, d), ignore_errors=True)
        removed.append(name)
    return removed


def main(argv: list[str]) -> int:
    if argv[:1] == ["down"]:
        print("removed:", " ".join(cleanup_stale()) or "nothing")
        return 0
    n = int(argv[1]) if argv[:1] == ["up"] and len(argv) > 1 else 1
    t0 = time.monotonic()
    hosts = [NamespaceHost(free_index()).start() for _ in range(n)]
    print(f"{n} host(s) up in {time.monotonic() - t0:.1f} s:", " ".join(h.tls_uri for h in hosts))
    print("Ctrl-C to stop")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        for h in hosts:
            h.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
