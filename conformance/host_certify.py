"""One host's certification: choose its accelerator, run pytest against its libvirt URI in
a child session, aggregate per case and write its four reports into one directory.

:func:`certify_host` is what ``conformance certify`` does for its single host, and what a
fleet run does for each of its hosts (``conformance.fleet.run``), in parallel threads.
"""

from __future__ import annotations

import os
import platform
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from conformance.errors import HarnessError
from conformance.pytest_child import pytest_problem, run_pytest
from conformance.report.headline import certification
from conformance.report.selection import Selection
from conformance.stopping import StopSignals

REACH_TIMEOUT = 30.0  # seconds for a fleet host's libvirtd to answer after its run
HARNESS_OWNED = [
    "kernel, initrd and kernel command line (supplied in the request's boot parameters)",
    "libvirt domain name (fresh per guest); the uuid is the request's instance uuid (fresh per "
    "guest identity), the driver's <uuid>/<sysinfo> uuid must be it (sandbox rule uuid)",
    "serial console (a file of the run) and the guest-agent socket path (libvirt's default)",
    "firmware (<loader type='rom'> qboot when available)",
    "ownership marker in <metadata>",
    "live levels: virt type = the host's accelerator; non-agent cases also get hw_qemu_guest_agent=yes",
]


@dataclass
class Settings:
    """What every host of one certification shares."""
    driver: str
    level: str
    accel: str
    config: object  # conformance.config.Config
    stop: StopSignals
    require: str | None = None
    protocol: int = 2
    progress: str = "auto"  # --cfm-progress of the pytest children
    rerun_failures: int = 0  # --rerun-failures: reruns of failed cases (conformance.rerun)
    flaky_is_failure: bool = True  # [run] flaky_is_failure: a flaky case is not certified

    @property
    def scope(self) -> str | None:
        return None if self.protocol >= 2 else "create only: the driver speaks protocol 1 (no lifecycle requests)"

    @property
    def config_path(self) -> str | None:
        return os.path.abspath(self.config.path) if self.config.path else None


@dataclass
class HostOutcome:
    """A host's finished report (as written) and what re-deciding its verdict needs."""
    report: dict
    verdicts: list[dict]
    problem: str | None
    out: Path
    label: str | None = None
    blocker: str | None = None  # why the host could not deliver results (e.g. unreachable)

    def mark_interrupted(self, settings: Settings) -> None:
        """The stop came after this host finished: its reports say interrupted after all."""
        if self.report["certification"]["verdict"] != "interrupted" and settings.stop.requested:
            _certification(self.report, certification(self.verdicts, settings.level,
                                                      settings.stop.summary(), self.problem, settings.scope))
            write_reports(self.report, self.out)


_SAY = threading.Lock()  # hosts' threads print whole lines


def say(label: str | None, text: str) -> None:
    line = f"certify[{label}]: {text}\n" if label else f"certify: {text}\n"
    with _SAY:
        sys.stderr.write(line)
        sys.stderr.flush()


def certify_host(settings: Settings, uri: str, selection: Selection, out: Path, parallel: int,
                 label: str | None = None, scratch: Path | None = None,
                 failed: str | None = None) -> HostOutcome:
    """Certify ``selection`` on the libvirt host ``uri``; reports and pytest.log in ``out``.

    ``label`` (fleet runs) names the host in progress lines and in the reason of every
    result it failed to deliver, and a host found unreachable (before or after its run)
    says so in its errors; ``scratch`` is then the fleet's temp dir (the fleet kills
    orphans and removes it once every host is done). ``failed`` (why the fleet could not
    certify this host) writes reports in which every case errors with that reason.
    """
    from conformance.catalogue import ALL_CASES
    out.mkdir(parents=True, exist_ok=True)
    title = f"{label} ({uri})" if label else None
    cases = [c for c in ALL_CASES if selection.case_wanted(c)]
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.monotonic()
    say(label, f"preparing: {len(cases)} cases, driver {settings.driver}"
        + ("" if settings.level == "xml" else ", choosing the accelerator"))
    blocker = f"host {title}: {failed}" if failed else _unreachable(uri, title) if label else None
    with HostPreparation(uri, settings, blocker, label) as prepared:
        virt_type, reason = prepared.virt_type, prepared.reason
        say(label, f"driver {settings.driver}; {len(cases)} cases; levels up to {settings.level}; "
            f"accelerator {virt_type} ({reason})")
        results = {"entries": [], "expected": [], "exitstatus": None}
        if not settings.stop.requested and not blocker:
            results = run_pytest(settings, selection, uri, parallel, out, label, scratch,
                                 prepared.child_env)
        interrupted = settings.stop.summary()
        verdicts = _verdicts(results, cases, virt_type, settings, interrupted, title)
        problem = pytest_problem(results["exitstatus"], interrupted, out, results.get("stderr", ""))
        if settings.rerun_failures and not (interrupted or blocker or problem):
            from conformance.rerun import rerun_host
            verdicts = rerun_host(settings, verdicts, results, selection, cases, out,
                                  lambda sel, where: run_pytest(settings, sel, uri, parallel, where, label,
                                                                scratch, prepared.child_env),
                                  lambda found, chosen, stopped: _verdicts(found, chosen, virt_type, settings,
                                                                           stopped, title),
                                  lambda text: say(label, text))
            interrupted = settings.stop.summary()
        if label and not interrupted and not blocker and (
                problem or any(v["verdict"] in ("fail", "error") for v in verdicts)):
            blocker = _unreachable(uri, title)  # did the host die under the run?
        prepared.lost = blocker
    if blocker and not interrupted:
        from conformance.report.aggregate import blame_host
        blame_host(verdicts, blocker)
        problem = blocker
    facts = {"error": blocker} if blocker else _host_facts(uri)
    report = _report(settings, verdicts, results, selection, uri, virt_type, reason, facts,
                     started, clock)
    report["host"]["workers"] = parallel  # what a fleet report says of it (conformance merge)
    if label:
        report["host"]["label"] = label
    _certification(report, certification(verdicts, settings.level, interrupted, problem, settings.scope,
                                         settings.flaky_is_failure))
    write_reports(report, out)
    outcome = HostOutcome(report, verdicts, problem, out, label, blocker)
    outcome.mark_interrupted(settings)  # the signal arrived while the reports were being written
    return outcome


def _unreachable(uri: str, title: str) -> str | None:
    why = reachable(uri)
    return f"host {title} unreachable: {why}" if why else None


def reachable(uri: str, timeout: float = REACH_TIMEOUT) -> str | None:
    """None when libvirt at ``uri`` answers within ``timeout`` s, else why not."""
    from conformance.waiters import wait_until
    found: dict = {}

    def probe() -> None:
        try:
            from conformance.lab.connection import open_connection
            conn = open_connection(uri)
            try:
                conn.getLibVersion()
            finally:
                conn.close()
            found["why"] = None
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            found["why"] = getattr(exc, "detail", None) or str(exc) or type(exc).__name__

    # libvirt.open cannot be cancelled: the probe thread is a daemon, abandoned on timeout
    threading.Thread(target=probe, name=f"reach {uri}", daemon=True).start()
    try:
        wait_until(lambda: "why" in found, timeout, f"libvirt at {uri} did not answer", interval=0.05)
    except HarnessError as exc:
        return str(exc)
    return found["why"]


class HostPreparation:
    """What a host's run needs before its pytest child starts, undone when the run ends:
    the accelerator, and on a remote host the guest image uploaded once for the whole run.
    The child's labs adopt those volumes (``child_env``, :data:`storage.SHARED_ENV`) instead
    of uploading per worker; they are removed with this lab when the run ends (left alone
    on a host found ``lost``, which cannot be reached; ``cleanup --host`` removes them)."""

    def __init__(self, uri: str, settings: Settings, blocker: str | None, label: str | None):
        self.uri, self.settings, self.label = uri, settings, label
        self.virt_type, self.reason = "unknown", blocker
        self.child_env: dict[str, str] = {}
        self.lost: str | None = None
        self._lab = None
        self._skip = blocker is not None

    def __enter__(self) -> HostPreparation:
        if self._skip:
            return self
        if self.settings.level == "xml":
            self.virt_type, self.reason = "qemu", "not needed: --level xml"
            return self
        from conformance.host.accel import choose
        from conformance.lab.image import load_image
        from conformance.lab.lab import Lab
        from conformance.lab.storage import shared_env
        try:
            image = load_image()
            self._lab = Lab(self.uri)
            if self._lab.remote:
                self._lab.host_image(image)
                self.child_env = shared_env(self.uri, self._lab.files.uploaded)
            chosen = choose(self._lab, image, self.settings.accel)
            self.virt_type, self.reason = chosen.virt_type, chosen.reason
        except HarnessError as exc:
            self.virt_type, self.reason = "unknown", f"no guests can run here: {exc}"
        if self._lab is not None and not self.child_env:
            self._close()  # nothing shared: the lab is not needed during the run
        return self

    def __exit__(self, *exc) -> None:
        self._close()

    def _close(self) -> None:
        lab, self._lab = self._lab, None
        if lab is None:
            return
        if self.lost:
            lab.unreachable = self.lost  # no 30 s of reconnecting to a host known lost
        try:
            lab.close()
        except HarnessError as exc:
            say(self.label, f"could not remove the run's image volumes on {self.uri}: {exc}")


def _accelerator(uri: str, accel: str) -> tuple[str, str]:
    try:
        from conformance.host.accel import choose
        from conformance.lab.image import load_image
        from conformance.lab.lab import Lab
        image = load_image()
        with Lab(uri) as lab:
            chosen = choose(lab, image, accel)
        return chosen.virt_type, chosen.reason
    except HarnessError as exc:
        return "unknown", f"no guests can run here: {exc}"


def _host_facts(uri: str) -> dict:
    """The capabilities of the libvirt host of ``uri``, measured there (remote: over ssh)."""
    try:
        from conformance.host.capabilities import probe
        from conformance.lab.connection import open_connection
        from conformance.lab.host import host_access
        conn, host = open_connection(uri), host_access(uri)
        try:
            return probe(conn, host).to_dict()
        finally:
            host.close()
            conn.close()
    except Exception as exc:  # noqa: BLE001 - facts are informative, never fatal
        return {"error": str(exc)}


def _verdicts(results, cases, virt_type, settings: Settings, interrupted, host) -> list[dict]:
    """Per-case verdicts: aggregated checks, then the config's and the CLI's requirements."""
    from conformance.live.plan import no_check_levels
    from conformance.report.aggregate import aggregate, require_features, require_level
    planned = {c.id: no_check_levels(c, virt_type if virt_type != "unknown" else "qemu") for c in cases}
    verdicts = aggregate(results["entries"], cases, planned, settings.level, interrupted=bool(interrupted),
                         expected=results["expected"], host=host)
    return require_level(require_features(verdicts, settings.config.required_features), settings.require)


def _report(settings: Settings, verdicts, results, selection, uri, virt_type, reason, facts,
            started, clock) -> dict:
    from conformance.report.aggregate import matrix, operation_matrix
    config = settings.config
    summary = {k: sum(1 for v in verdicts if v["verdict"] == k)
               for k in ("pass", "flaky", "fail", "error", "skip", "not-run")}
    summary["total"] = len(verdicts)
    return {
        "format": 1, "driver": settings.driver, "started": started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "selection": selection.__dict__,
        "host": {"accelerator": virt_type, "accelerator_reason": reason, "libvirt_uri": uri,
                 "kernel": platform.release(), "config": config.path,
                 "rng_dev_path": config.rng_dev_path, "required_features": config.required_features,
                 "required_level": settings.require, "capabilities": facts},
        "versions": versions(),
        "harness_owned": HARNESS_OWNED,
        "pytest_exitstatus": results["exitstatus"],
        "driver_protocol": settings.protocol,
        "summary": summary, "matrix": matrix(verdicts), "operations": operation_matrix(verdicts),
        "cases": verdicts,
    }


def _certification(report: dict, found: dict) -> None:
    report["certification"] = found
    report["summary"].update(verdict=found["verdict"], certification_level=found["level"],
                             headline=found["headline"])


def write_reports(report: dict, out: Path) -> None:
    """report.json (digested, schema-checked), junit.xml, report.html, report.subunit."""
    from conformance.report import subunit_stream, writers
    report.pop("digest", None)
    final = writers.finish(report)
    report["digest"] = final["digest"]
    writers.write_json(final, out / "report.json")
    writers.write_junit(final, out / "junit.xml")
    writers.write_html(final, out / "report.html")
    subunit_stream.write_subunit(final, out / "report.subunit")


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    found = {"python": platform.python_version()}
    for name in ("hv-conformance", "libvirt-python", "lxml", "pytest"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found
