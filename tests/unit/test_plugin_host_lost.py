"""fixtures.plugin: a check during which the lab had to reconnect to libvirt (libvirtd went
away and came back) decided nothing: its failure is an error naming the host."""

from conformance.catalogue import CASES
from conformance.report.aggregate import aggregate
from support.collected_run import run_collected

SUITE = '''
import pytest
from conformance.catalogue import CASES
from fixtures import lab as lab_fixtures


class FakeLab:
    uri = "qemu:///system"
    reconnects = 0

    def connected(self):
        return self


LAB = FakeLab()
lab_fixtures._SESSION["lab"] = LAB  # the session's lab, made before these items run


@pytest.mark.parametrize("case", CASES[:2], ids=lambda c: c.slug)
def test_case(case):
    if case is CASES[0]:
        LAB.reconnects += 1  # libvirtd restarted while this check ran
        assert False, "watchdog never fired"
    assert False, "a real failure of the driver"
'''


def test_a_failure_during_a_reconnect_is_an_error_naming_the_host(tmp_path):
    done, results = run_collected(tmp_path, "test_restart.py", SUITE)
    entries = results["entries"]
    verdicts = aggregate(entries, CASES[:2], {c.id: {"host": "-", "guest": "-"} for c in CASES[:2]})
    assert [v["verdict"] for v in verdicts] == ["error", "fail"], done.stdout[-3000:]
    assert "qemu:///system" in verdicts[0]["reason"] and "reconnect" in verdicts[0]["reason"]
    assert "qemu:///system" not in verdicts[1]["reason"]


SHARED_FIXTURE = '''
import pytest
from conformance.catalogue import CASES
from fixtures import lab as lab_fixtures


class FakeLab:
    uri = "qemu:///system"
    reconnects = 0

    def connected(self):
        return self


LAB = FakeLab()
lab_fixtures._SESSION["lab"] = LAB


@pytest.fixture(scope="module")
def rebooted_guest():
    LAB.reconnects += 1  # libvirtd restarted while the guest was rebooted
    raise RuntimeError("reboot: the new domain did not start: End of file while reading data")


@pytest.mark.parametrize("case", CASES[:2], ids=lambda c: c.slug)
def test_case(case, rebooted_guest):
    pass
'''


def test_a_shared_fixture_cut_by_a_reconnect_errors_naming_the_host_for_every_item(tmp_path):
    """A module-scoped fixture (a lifecycle pair's guest) that failed while the lab reconnected
    fails again for each item using it: each of them names the host, not only the first."""
    done, results = run_collected(tmp_path, "test_shared.py", SHARED_FIXTURE)
    entries = results["entries"]
    assert len(entries) == 2, done.stdout[-3000:]
    assert all("libvirt host qemu:///system" in e["detail"] for e in entries), done.stdout[-3000:]
