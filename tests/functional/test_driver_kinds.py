"""Every kind of driver certifies at full level (levels xml, host and guest) on real guests:
``reference``, ``module:attr`` of protocol 1 and 2, ``exec:``, ``exec2:``, ``exec-stream:``,
``exec2-stream:`` and ``nova``. Each certifies one case per feature; the reference builds
the same domain for these six, so every kind boots one guest. A protocol-1 driver is
certified on create only, and its headline says so."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.functional, pytest.mark.slow]
TESTS = Path(__file__).resolve().parents[1]
SERVED = f"{sys.executable} -m conformance.cli driver-exec"
# one create case per feature, all in one guest group (agent on, no watchdog, default RNG)
ONE_GUEST = {"agent": "a81c5eb3", "watchdog": "9a191045", "rng": "76668c91", "pmu": "b84f83e6",
             "hidden_hypervisor": "6f8988f1", "locked_memory": "56d8e7f8"}
KINDS = {  # kind -> (driver spec, protocol)
    "reference": ("reference", 3),
    "module-protocol-1": ("broken_drivers.create_only:driver", 1),
    "module-protocol-3": ("conformance.reference:ReferenceDriver", 3),
    "exec": (f"exec:{SERVED} reference", 1),
    "exec2": (f"exec2:{SERVED} reference", 2),
    "exec-stream": (f"exec-stream:{SERVED} reference", 1),
    "exec2-stream": (f"exec2-stream:{SERVED} reference", 2),
    "nova": ("nova", 3),
}


def certify(out: Path, driver: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    """``conformance certify`` of the ONE_GUEST cases at full level, one worker."""
    cases = [arg for case in ONE_GUEST.values() for arg in ("--case", case)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", driver,
                           *cases, "--parallel", "1", "--output-dir", str(out), "--no-progress", *extra],
                          capture_output=True, text=True, timeout=900, env=env)
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return done, report


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_driver_kind_certifies_at_full_level(kind, tmp_path):
    spec, protocol = KINDS[kind]
    if kind == "nova":
        from conformance.drivers.nova import worker_python
        try:
            worker_python()
        except ImportError as exc:
            pytest.skip(str(exc))
    done, report = certify(tmp_path, spec)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert report["certification"]["verdict"] == "certified"
    assert report["driver_protocol"] == protocol
    assert sorted(c["feature"] for c in report["cases"]) == sorted(ONE_GUEST)
    for case in report["cases"]:
        levels = case["levels"]
        assert levels["xml"]["status"] == "pass", case
        assert levels["host"]["status"] == "pass", case  # a guest booted and was checked
        assert levels["guest"]["status"] in ("pass", "skip", "n/a"), case
    assert any(c["levels"]["guest"]["status"] == "pass" for c in report["cases"])
    headline = report["summary"]["headline"]
    assert headline.startswith("CERTIFIED")
    assert ("create only" in headline) == (protocol == 1), headline
