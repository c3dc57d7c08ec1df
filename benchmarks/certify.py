"""Benchmark: wall time of a full ``conformance certify`` per driver, median of N runs.

    .venv/bin/python benchmarks/certify.py [--runs 3] [--driver reference --driver nova]
                                           [--create-only] [--phases] [--cases-of COMMIT]
                                           [--baseline COMMIT] [-- EXTRA CERTIFY ARGS...]

Runs ``python -m conformance.cli certify`` of the checkout this script is in (its directory
first on PYTHONPATH, so a git worktree measures its own code with the main virtualenv) with
--output-dir in a fresh temporary directory per run (removed afterwards), for each driver
(default: reference and nova; nova needs CONFORMANCE_NOVA_PYTHON or a .venv-nova in the
repo). Drivers alternate run by run, so a change of load hits both. Per run it prints the wall time,
the load average, and figures that do not depend on the machine's load as much: guests
(distinct guest names in pytest's junit), the sum of pytest item durations, pytest's
own session time and the CPU seconds of certify's process tree (QEMU runs under libvirtd and
is not counted); then the ``summary`` of report.json (schema in docs/report-schema.md).
Last, one line per driver with the median wall time. A non-zero exit of certify (failing
cases) is reported, not fatal. ``--create-only`` leaves out the lifecycle cases (an
``--exclude-list`` of their ids): the 123 create-time cases. ``--phases`` also prints where
each run's time went (benchmarks/certify_phases.py: per-worker busy and idle seconds,
summed seconds of boots, agent waits, destroys, lifecycle operations, checks, and the
run's floor). ``--cases-of COMMIT`` certifies only the case ids that COMMIT's catalogue
registered (its conformance/catalogue/ids.txt, as an ``--include-list``), so that cases
added since do not blur a comparison; ``--baseline COMMIT`` also runs COMMIT's own checkout
(a temporary detached git worktree, removed at exit) in the same rounds, interleaved, and
prints the ratio of the medians (this checkout / COMMIT) per driver.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from lxml import etree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCHMARKS = os.path.join(ROOT, "benchmarks")
PYTEST_TIME = re.compile(r" in ([0-9.]+)s")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def junit_figures(path: str) -> dict:
    """Guests (a lifecycle trail's guest boots once per operation too: certify_phases.py
    counts boots) and summed item seconds of pytest's junit file ({} when absent)."""
    if not os.path.exists(path):
        return {}
    tree = etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))
    guests = {p.get("value") for p in tree.iter("property") if p.get("name") == "guest"}
    seconds = sum(float(t.get("time") or 0) for t in tree.iter("testcase"))
    return {"guests": len(guests), "item_seconds": round(seconds, 1)}


def pytest_seconds(log: str) -> float | None:
    """pytest's session time from the last line of its log."""
    try:
        with open(log) as handle:
            lines = handle.read().strip().splitlines()
    except OSError:
        return None
    match = PYTEST_TIME.search(lines[-1]) if lines else None
    return float(match.group(1)) if match else None


def certify_env(phases_dir: str | None, root: str = ROOT) -> dict:
    """The checkout ``root`` first on PYTHONPATH; with ``phases_dir``, this checkout's phase
    recorder loaded."""
    path = [root] + ([BENCHMARKS] if phases_dir else [])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path + [os.environ.get("PYTHONPATH", "")]))
    if phases_dir:
        env.update(CFM_PHASES_DIR=phases_dir,
                   PYTEST_ADDOPTS=f"{env.get('PYTEST_ADDOPTS', '')} -p certify_phases".strip())
    return env


def run_once(driver, extra, phases=False, root=ROOT):
    """Run certify of the checkout ``root`` once; return (seconds, exit code, report.json or
    None, figures)."""
    with tempfile.TemporaryDirectory(prefix="bench-certify-") as out:
        argv = [sys.executable, "-m", "conformance.cli", "certify", "--driver", driver,
                "--output-dir", out, *extra]
        env = certify_env(os.path.join(out, "phases") if phases else None, root)
        cpu, started = children_cpu(), time.monotonic()
        rc = subprocess.run(argv, cwd=root, stdout=subprocess.DEVNULL, env=env).returncode
        seconds = time.monotonic() - started
        if phases:
            sys.path.insert(0, BENCHMARKS)
            from certify_phases import summarise
            summarise(os.path.join(out, "phases"))
        figures = {**junit_figures(os.path.join(out, "pytest-junit.xml")),
                   "pytest_s": pytest_seconds(os.path.join(out, "pytest.log")),
                   "cpu_s": round(children_cpu() - cpu, 1),
                   "load": tuple(round(x, 2) for x in os.getloadavg())}
        path = os.path.join(out, "report.json")
        report = json.load(open(path)) if os.path.exists(path) else None
    return seconds, rc, report, figures


def _temporary(prefix: str, suffix: str = "") -> str:
    import atexit
    handle = tempfile.NamedTemporaryFile("w", prefix=prefix, suffix=suffix, delete=False)
    handle.close()
    atexit.register(os.unlink, handle.name)
    return handle.name


def lifecycle_exclude_list() -> str:
    """A temporary exclude list (removed at exit) naming every lifecycle case id."""
    sys.path.insert(0, ROOT)
    from conformance.catalogue import LIFECYCLE_CASES
    path = _temporary("bench-lifecycle-", ".txt")
    with open(path, "w") as handle:
        handle.write("".join(f"{case.id}\n" for case in LIFECYCLE_CASES))
    return path


def include_list_of(commit: str) -> str:
    """A temporary include list (removed at exit) of the case ids ``commit``'s catalogue
    registered (conformance/catalogue/ids.txt), and how many."""
    text = subprocess.run(["git", "-C", ROOT, "show", f"{commit}:conformance/catalogue/ids.txt"],
                          check=True, capture_output=True, text=True).stdout
    ids = [line.split()[0] for line in text.splitlines() if line.strip() and not line.startswith("#")]
    path = _temporary("bench-cases-", ".txt")
    with open(path, "w") as handle:
        handle.write("".join(f"{i}\n" for i in ids))
    return path


def baseline_checkout(commit: str) -> str:
    """A detached git worktree of ``commit`` in a temporary directory, removed at exit."""
    import atexit
    path = tempfile.mkdtemp(prefix="bench-baseline-")
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-q", path, commit], check=True)
    atexit.register(subprocess.run, ["git", "-C", ROOT, "worktree", "remove", "--force", path])
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--driver", action="append", help="driver spec (repeatable; default: "
                                                     "reference and nova)")
    p.add_argument("--create-only", action="store_true",
                   help="exclude the lifecycle cases (create-time catalogue only)")
    p.add_argument("--phases", action="store_true",
                   help="print where each run's time went (benchmarks/certify_phases.py)")
    p.add_argument("--cases-of", metavar="COMMIT",
                   help="only the case ids COMMIT's catalogue registered (an include list)")
    p.add_argument("--baseline", metavar="COMMIT",
                   help="also run COMMIT's checkout in the same rounds; print the ratio")
    p.add_argument("extra", nargs="*", help="extra certify arguments (after --)")
    a = p.parse_args(argv)
    if a.create_only:
        a.extra = [*a.extra, "--exclude-list", lifecycle_exclude_list()]
    if a.cases_of:
        a.extra = [*a.extra, "--include-list", include_list_of(a.cases_of)]
    drivers = a.driver or ["reference", "nova"]
    roots = {"this": ROOT, **({a.baseline: baseline_checkout(a.baseline)} if a.baseline else {})}
    medians = {(driver, name): [] for driver in drivers for name in roots}
    for i in range(a.runs):
        for driver in drivers:
            for name, root in roots.items():
                label = f"{driver} ({name}) run {i + 1}"
                print(f"{label}: load average before {os.getloadavg()[0]:.2f}", flush=True)
                seconds, rc, report, figures = run_once(driver, a.extra, a.phases, root)
                medians[driver, name].append(seconds)
                print(f"{label}: {seconds:.1f} s (exit {rc}); "
                      + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)
                print(f"  summary: {report.get('summary') if report else 'no report.json written'}")
    for (driver, name), times in medians.items():
        print(f"certify --driver {driver} ({name}): wall median {statistics.median(times):.1f} s "
              f"over {len(times)} run(s) ({', '.join(f'{t:.1f}' for t in times)}); "
              f"load average now {os.getloadavg()[0]:.2f}")
    if a.baseline:
        for driver in drivers:
            ratio = statistics.median(medians[driver, "this"]) / statistics.median(medians[driver, a.baseline])
            print(f"certify --driver {driver}: this / {a.baseline} = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
