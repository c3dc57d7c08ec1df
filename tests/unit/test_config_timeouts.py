"""Each ``[timeouts]`` key is the deadline the suite really uses (fixtures/, fake guests).

boot and agent: the guest waits of ``fixtures.guests.wait_ready``; watchdog: every wait of
the watchdog fire check; exec_driver: the per-request deadline of the judged exec driver.
"""
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conformance.contract import Request
from conformance.errors import DriverFault
from conformance.live import LiveCheckFailed
from conformance.live.fakes import CommandResult, FakeGuest
from fixtures.driver import config_of, groups_of, load_judged
from fixtures.guests import wait_ready, watchdog_fires

HANG = Path(__file__).resolve().parents[1] / "broken_drivers" / "exec_hang.py"


class FakePytestConfig:
    """The two options fixtures.driver reads, and a stash."""

    def __init__(self, config_file, driver="reference"):
        self.options = {"--conformance-config": str(config_file), "--driver": driver}
        self.stash = {}

    def getoption(self, name, default=None):
        return self.options.get(name, default)


def config_with(tmp_path, **timeouts):
    path = tmp_path / "conformance.conf"
    path.write_text("[timeouts]\n" + "".join(f"{k} = {v}\n" for k, v in timeouts.items()))
    return path


AGENT_CHANNEL = ("<domain><devices><channel type='unix'><target type='virtio' "
                 "name='org.qemu.guest_agent.0'/></channel></devices></domain>")


class RecordingGuest(FakeGuest):
    """A healthy fake guest (with an agent channel) that records the deadline of each wait."""

    def __init__(self, **kw):
        super().__init__(xml=AGENT_CHANNEL, **kw)
        self.waits = []

    def wait_for_boot(self, timeout=60, after=0):
        self.waits.append(("boot", timeout))
        return super().wait_for_boot(timeout, after)

    def wait_for_agent(self, timeout=60):
        self.waits.append(("agent", timeout))
        return super().wait_for_agent(timeout)


def test_boot_and_agent_keys_are_the_guest_deadlines(tmp_path):
    config = config_of(FakePytestConfig(config_with(tmp_path, boot=7, agent=9)))
    guest = RecordingGuest(boots=["boot-1"])
    assert wait_ready(guest, config) is guest
    assert guest.waits == [("boot", 7.0), ("agent", 9.0)]
    other = RecordingGuest(boots=["boot-1"])
    wait_ready(other, config_of(FakePytestConfig(config_with(tmp_path, boot=11))), agent=False)
    assert other.waits == [("boot", 11.0)]


def test_watchdog_key_bounds_the_fire_wait(tmp_path):
    """A watchdog that never fires fails after the configured wait, and says so."""
    config = config_of(FakePytestConfig(config_with(tmp_path, watchdog=0.3)))
    guest = FakeGuest(boots=["boot-1"],
                      shell=[(r"identity", CommandResult(0, "/sys/class/watchdog/watchdog0/identity"
                                                            "\ti6300ESB timer\n")),
                             (r"^watchdog ", CommandResult(0, "armed\n"))])
    with pytest.raises(LiveCheckFailed, match=r"an event within 0\.3 s"):
        watchdog_fires(guest, "reset", config)


def test_exec_driver_key_bounds_each_request(tmp_path):
    """The judged exec driver (fixture ``driver``, collection-time groups) gets the configured
    per-request deadline; a hanging driver faults with it."""
    spec = f"exec:{sys.executable} {HANG}"
    pytest_config = FakePytestConfig(config_with(tmp_path, exec_driver=0.5), driver=spec)
    driver = load_judged(pytest_config)
    assert driver.timeout == 0.5
    request = Request(virt_type="qemu", instance_name="instance-1", instance_uuid=str(uuid.uuid4()))
    with pytest.raises(DriverFault, match=r"no answer within 0\.5 s"):
        driver.build(request)


def test_collection_time_groups_use_the_exec_key(tmp_path, monkeypatch):
    from conformance.live import plan
    seen = []
    monkeypatch.setattr(plan, "groups_of", lambda spec, timeout, wanted: seen.append((spec, timeout)) or ())
    groups_of(FakePytestConfig(config_with(tmp_path, exec_driver=4), driver="exec:x"))
    assert seen == [("exec:x", 4.0)]


def test_conformance_config_option_reaches_plain_pytest(tmp_path):
    """--conformance-config works without `conformance certify` (fixtures plugin option)."""
    (tmp_path / "test_probe.py").write_text(
        "def test_probe(conformance_config):\n"
        "    assert conformance_config.boot_timeout == 7\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:xdist", str(tmp_path / "test_probe.py"),
                           "--conformance-config", str(config_with(tmp_path, boot=7))],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
