"""`conformance certify` in a subprocess that faults (signals) are injected into.

Only the certify process itself is signalled (it runs in a session of its own, as a
CI runner's or a user's ``kill`` would reach it). While it runs, its descendants' pids and
their runs' ids are tracked, so afterwards the test can check that none is left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from lxml import etree

from conformance.lab.cleanup import owned_domains
from conformance.lab.runs import process_start_time
from conformance.process import default_signals, kill_group
from conformance.waiters import wait_until
from faults.leftovers import host_paths, leftovers

# Runs certify in-process; INJECT (python source) may patch the harness first.
SCRIPT = """
import os, signal, sys
{inject}
from conformance.cli import main
sys.exit(main(sys.argv[1:]))
"""


class CertifyRun:
    def __init__(self, tmp_path: Path, args, conn, inject: str = ""):
        self.out = tmp_path / "out"
        self.tmp_root = tmp_path / "tmp-root"
        self.tmp_root.mkdir()
        self.log = tmp_path / "certify.log"
        self.conn = conn
        self.pids: dict[int, str] = {}   # pid -> start time, of certify and its descendants
        self.run_ids: set[str] = set()
        self.paths: set[str] = set()
        env = {**os.environ, "TMPDIR": str(self.tmp_root)}
        argv = [sys.executable, "-c", SCRIPT.format(inject=inject), "certify", "--no-progress",
                "--output-dir", str(self.out), *args]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(argv, cwd=Path(__file__).resolve().parents[2], env=env,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                         preexec_fn=default_signals)

    def output(self) -> str:
        return self.log.read_bytes().decode(errors="replace")[-5000:]

    def track(self) -> None:
        """Remember certify's descendants now, and the runs (guests) they own."""
        parent = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", "rb") as stat:
                        parent[int(entry)] = int(stat.read().rsplit(b")", 1)[1].split()[1])
                except OSError:
                    pass
        for pid in parent:
            ancestor = pid
            while ancestor in parent and ancestor != self.proc.pid and ancestor > 1:
                ancestor = parent[ancestor]
            if ancestor == self.proc.pid and pid not in self.pids:
                started = process_start_time(pid)
                if started:
                    self.pids[pid] = started
        for domain, owner in owned_domains(self.conn):
            if owner.pid in self.pids:
                self.run_ids.add(owner.run)
                self.paths |= host_paths(domain)

    def guests(self, slug: str = "") -> list:
        self.track()
        return [d for d, o in owned_domains(self.conn)
                if o.pid in self.pids and slug in d.name() and d.isActive()]

    def wait_for(self, predicate, timeout: float, what: str):
        def ready():
            self.track()
            if self.proc.poll() is not None:
                raise AssertionError(f"certify exited ({self.proc.returncode}) before {what}:\n{self.output()}")
            return predicate()
        return wait_until(ready, timeout, what, interval=0.1)

    def signal(self, signum: int) -> None:
        self.track()
        self.proc.send_signal(signum)

    def finish(self, timeout: float = 90) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.proc)
            raise AssertionError(f"certify did not exit within {timeout} s:\n{self.output()}")

    def report(self) -> dict:
        return json.loads((self.out / "report.json").read_text())

    def left_behind(self) -> list[str]:
        """Domains, run dirs, files, processes and temp files of this certify run still there."""
        found = leftovers(self.conn, self.run_ids, set(self.pids), self.paths)
        found += [f"process {pid} ({_cmdline(pid)})" for pid, started in self.pids.items()
                  if process_start_time(pid) == started]
        found += [f"temp {p}" for p in self.tmp_root.iterdir()]
        return found

    def assert_interrupted(self, signal_name: str) -> None:
        report = self.report()
        cert = report["certification"]
        assert cert["verdict"] == "interrupted", cert["headline"]
        assert cert["interrupted"]["signal"] == signal_name
        assert report["summary"]["headline"].startswith(f"INTERRUPTED by {signal_name}")
        page = (self.out / "report.html").read_text()
        assert "data-verdict='interrupted'" in page
        junit = etree.parse(str(self.out / "junit.xml"))
        assert junit.find(".//property[@name='certification']").get("value") == "interrupted"
        assert "CERTIFIED," not in self.output()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read(300).replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "gone"
