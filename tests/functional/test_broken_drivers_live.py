"""The deliberately broken drivers whose mistake a booted guest shows are caught at the live
levels too, not only in their XML: each certified at full level on a case it gets wrong,
the modes spread over them (in process, one-shot exec, exec-stream, protocols 2 and 3 over
the stream); a level where the mistake cannot show may pass (a resume that drops the RNG
rate: the restored guest keeps it, the definition libvirt keeps has lost it). tests/unit/test_broken_drivers.py shows every mode catching them at level xml.
Each failed level leaves its artefacts (console, QEMU log, the driver's and the booted XML,
before and after the operation, events, QMP, dmesg), linked from all four reports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.artifact_links import assert_artifacts_everywhere
from conformance.catalogue import ALL_CASES

pytestmark = [pytest.mark.functional, pytest.mark.slow]
TESTS = Path(__file__).resolve().parents[1]
SERVED = f"{sys.executable} -m conformance.cli driver-exec"
FAILED = {"fail"}
# the guest's agent never connects: the guest is never ready, so no live check can run
NEVER_READY = {"fail", "error"}
# module, mode, (feature, case name), host and guest statuses allowed (KVM-only checks skip on TCG)
LIVE = [
    ("watchdog_flavor_wins", "python", ("watchdog", "image-reset-beats-flavor-pause"), FAILED, FAILED),
    ("rng_drops_rate", "exec", ("rng", "rate"), FAILED, FAILED),
    ("hide_ignores_legacy", "exec-stream", ("hidden_hypervisor", "legacy-true"), FAILED, {"fail", "skip"}),
    ("agent_wrong_target", "python", ("agent", "yes"), NEVER_READY, NEVER_READY),
    ("watchdog_dropped_on_resize", "exec2-stream", ("watchdog", "resize-changes-action"), FAILED, FAILED),
    ("q35_no_watchdog", "exec-stream", ("watchdog", "q35-reset"), FAILED, FAILED),
    # the restored guest keeps the rate (libvirt restores the saved domain): the definition
    # libvirt keeps, which the next start boots, has lost it (level host, persistence)
    ("rng_rate_dropped_on_resume", "exec3-stream", ("rng", "suspend-resume-keeps-rate"), FAILED, {"pass"}),
    ("agent_lost_on_unshelve", "python", ("agent", "unshelve-keeps-agent"), FAILED, FAILED),
]


def spec(module: str, mode: str) -> str:
    python = f"broken_drivers.{module}:driver"
    return python if mode == "python" else f"{mode}:{SERVED} {python}"


@pytest.mark.parametrize("module, mode, case, host, guest", LIVE, ids=[f"{m}-{mode}" for m, mode, *_ in LIVE])
def test_broken_driver_is_caught_at_every_level(tmp_path, module, mode, case, host, guest):
    case_id = next(c.id for c in ALL_CASES if (c.feature, c.name) == case)
    config = tmp_path / "conformance.conf"  # the agent of agent_wrong_target never answers
    config.write_text("[timeouts]\nagent = 45\nwatchdog = 45\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", spec(module, mode),
                           "--case", case_id, "--parallel", "1", "--config", str(config),
                           "--output-dir", str(tmp_path / "out"), "--no-progress"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["certification"]["problem"] is None, report["certification"]
    [result] = report["cases"]
    levels = {level: result["levels"][level]["status"] for level in ("xml", "host", "guest")}
    assert levels["xml"] == "fail" and levels["host"] in host, (levels, result["reason"])
    assert levels["guest"] in guest, (levels, result["levels"]["guest"]["reason"])
    operation = result["operation"] if result["operation"] != "create" else None
    assert_artifacts_everywhere(tmp_path / "out", result, operation)


# module, mode, (feature, case name): drivers whose mistake only a booted guest shows (their
# XML passes every level-xml check): right at level xml, failed at level host
LIVE_ONLY = [
    ("soft_reboot_unasked", "exec3-stream", ("agent", "soft-reboot-no-agent-stays-off")),
]


@pytest.mark.parametrize("module, mode, case", LIVE_ONLY, ids=[f"{m}-{mode}" for m, mode, _ in LIVE_ONLY])
def test_broken_driver_is_caught_live_only(tmp_path, module, mode, case):
    """A soft reboot that never asks the guest (a domain without <acpi/> and, in this case,
    without the agent channel): the guest is destroyed instead of shutting down cleanly."""
    case_id = next(c.id for c in ALL_CASES if (c.feature, c.name) == case)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "certify", "--driver", spec(module, mode),
                           "--case", case_id, "--parallel", "1",
                           "--output-dir", str(tmp_path / "out"), "--no-progress"],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    [result] = report["cases"]
    levels = {level: result["levels"][level]["status"] for level in ("xml", "host")}
    assert levels == {"xml": "pass", "host": "fail"}, (levels, result["reason"])
    assert "never reached the guest" in result["levels"]["host"]["reason"]
    assert_artifacts_everywhere(tmp_path / "out", result, result["operation"])
