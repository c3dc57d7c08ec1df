"""Driver specs ``nova==VERSION`` / ``nova@VERSION``: a given Nova release, each in its own
cached virtualenv under ``/var/lib/conformance/nova/<version>/``, created on demand with pip.

The virtualenv gets ``nova==VERSION`` plus the packages Nova's test fixtures need and the
wheel does not declare (pyproject's ``nova`` extra, :data:`FIXTURE_PACKAGES`). Where the
project ships its series' upper-constraints (``nova_constraints/<series>.txt``, from
openstack/requirements: the library versions OpenStack tested that series with), pip
installs under them; otherwise (34.x, newer than the files) with the newest libraries.
Without them Nova <= 30 does not import today (oslo.utils 9 removed ``secretutils.md5``).
A release is kept only once pip succeeded and the interpreter imports that Nova
(``nova_version_of``); installs run one at a time (a lock file), also across processes.
"""

from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conformance.drivers.nova import NovaDriver, nova_version_of
from conformance.errors import DriverLoadError
from conformance.process import kill_group

CACHE = Path("/var/lib/conformance/nova")
FIXTURE_PACKAGES = ("testtools>=2.5", "wsgi-intercept>=1.13")  # = pyproject's nova extra minus nova
INSTALL_TIMEOUT = 900.0  # one release with its dependencies: ~60-120 s from cached wheels
SPEC = re.compile(r"^nova(?:==|@)(\d+\.\d+\.\d+)$")
# Nova major version -> (release series, ref of its upper-constraints in openstack/requirements)
SERIES = {
    33: ("2026.1", "stable/2026.1"), 32: ("2025.2", "stable/2025.2"), 31: ("2025.1", "stable/2025.1"),
    30: ("2024.2", "2024.2-eol"), 29: ("2024.1", "unmaintained/2024.1"), 28: ("2023.2", "2023.2-eol"),
    27: ("2023.1", "unmaintained/2023.1"), 26: ("zed", "unmaintained/zed"), 25: ("yoga", "unmaintained/yoga"),
    24: ("xena", "xena-eom"), 23: ("wallaby", "wallaby-eom"), 22: ("victoria", "victoria-eom"),
    21: ("ussuri", "ussuri-eol"),
}
CONSTRAINTS = "{series}.txt"
CONSTRAINTS_DIR = Path(__file__).with_name("nova_constraints")


class NovaInstallError(DriverLoadError):
    """A Nova release cannot be installed or imported here; the message says why."""


def release_of(spec: str) -> str | None:
    """``nova==33.0.2`` / ``nova@33.0.2`` -> ``33.0.2``; None for any other spec."""
    found = SPEC.match(spec.strip())
    return found.group(1) if found else None


def constraints(version: str) -> Path | None:
    """The shipped upper-constraints file of ``version``'s series, if any."""
    series = SERIES.get(int(version.split(".")[0]))
    path = CONSTRAINTS_DIR / CONSTRAINTS.format(series=series[0]) if series else None
    return path if path and path.is_file() else None


def packages(version: str) -> list[str]:
    """What pip installs: Nova, the fixtures' packages (at the series' versions if constrained)."""
    if constraints(version):
        return [f"nova=={version}", *(re.split(r"[<>=]", p)[0] for p in FIXTURE_PACKAGES)]
    return [f"nova=={version}", *FIXTURE_PACKAGES]


def _pip_args(version: str) -> list[str]:
    found = constraints(version)
    return [*packages(version), *(["-c", str(found)] if found else [])]


def _marker(version: str) -> str:
    """What a ready virtualenv records: the packages and the constraints' digest."""
    found = constraints(version)
    digest = f" constraints:{hashlib.sha256(found.read_bytes()).hexdigest()[:16]}" if found else ""
    return " ".join(packages(version)) + digest


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _ready(venv: Path, version: str) -> bool:
    marker = venv / ".installed"
    if not marker.is_file() or marker.read_text().strip() != _marker(version):
        return False
    try:
        return nova_version_of(str(_python(venv))) == version
    except ImportError:
        return False


def why_pip_failed(output: str, keep: int = 4) -> str:
    """The error lines of pip's output (compiler errors, exceptions, ERROR: lines) and,
    unless those name the package, the one pip was collecting last; else its last lines."""
    lines = [line.lstrip(" |│╰─>").rstrip() for line in output.splitlines()]
    lines = [line for line in lines if line and not line.startswith("WARNING: Location")]
    collecting = [line for line in lines if line.startswith("Collecting ")]
    errors = list(dict.fromkeys(line for line in lines if re.search(
        r"^ERROR: |^\w*(Error|Exception): |: (fatal )?error: ", line)))
    if not errors:
        return " | ".join(lines[-6:]) or "no output"
    named = any(re.search(r"wheels? for \S+", line) for line in errors)
    return "; ".join(([f"last collecting {collecting[-1][len('Collecting '):]}"] if collecting and not named else [])
                     + errors[-keep:])


def _run(argv: list[str], timeout: float, what: str) -> None:
    """Run ``argv`` in its own process group; on timeout or interruption the whole group
    (pip and the compilers it started) is killed."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise NovaInstallError(f"{what} took over {timeout:g} s") from None
    except BaseException:
        kill_group(proc)
        raise
    if proc.returncode != 0:
        raise NovaInstallError(f"{what} failed (exit {proc.returncode}): {why_pip_failed(out + chr(10) + err)}")


def provision(version: str, cache: Path = CACHE, *, timeout: float = INSTALL_TIMEOUT,
              log=sys.stderr) -> str:
    """The interpreter of a virtualenv that imports upstream Nova ``version``; created with
    pip when missing. Raise NovaInstallError with pip's or the import's last lines."""
    venv = cache / version
    if _ready(venv, version):
        return str(_python(venv))
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one pip at a time; another process may have won
        if _ready(venv, version):
            return str(_python(venv))
        building = cache / f".{version}.partial"
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(venv, ignore_errors=True)
        started = time.monotonic()
        print(f"setup: installing upstream Nova {version} into {venv} (pip, 1-2 min)",
              file=log, flush=True)
        try:
            _run([sys.executable, "-m", "venv", str(building)], 120, "creating the virtualenv")
            _run([str(_python(building)), "-m", "pip", "install", "--disable-pip-version-check",
                  *_pip_args(version)], timeout, f"pip install {' '.join(_pip_args(version))}")
            _check_version(str(_python(building)), version)
            # only bin/python -m is used, so the moved virtualenv keeps working (its
            # console scripts' shebangs would name the old path)
            shutil.move(str(building), str(venv))
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        venv.joinpath(".installed").write_text(_marker(version) + "\n")
        nova_version_of.cache_clear()
        print(f"setup: Nova {version} ready in {time.monotonic() - started:.0f} s", file=log, flush=True)
        return str(_python(venv))


def _check_version(python: str, version: str) -> None:
    nova_version_of.cache_clear()
    try:
        found = nova_version_of(python)
    except ImportError as exc:
        raise NovaInstallError(f"nova {version} installed but not importable: {exc}") from None
    if found != version:
        raise NovaInstallError(f"the new virtualenv imports nova {found}, not {version}")


def load(spec: str) -> NovaDriver:
    """The ``nova==VERSION`` driver (its worker runs that release's interpreter)."""
    version = release_of(spec)
    if version is None:
        raise DriverLoadError(f"bad driver spec {spec!r}: expected nova==X.Y.Z or nova@X.Y.Z")
    driver = NovaDriver(python=provision(version))
    driver.name = f"nova=={version}"
    return driver
