"""benchmarks/compare_reports.py: two runs' reports are the same apart from what differs run
to run (times, guest names, paths, measured numbers), and a changed verdict is found."""

import copy
import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "compare_reports.py"
spec = importlib.util.spec_from_file_location("compare_reports", SCRIPT)
compare_reports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_reports)

CASE_ID = "d2d93c9e-4c1b-4deb-b1e5-afd4a25dd60a"


def report(run: str, started: str, rate: int) -> dict:
    check = {"test": "t::test_host[rng-9f1eef8f]", "status": "pass", "reason": "", "duration": 1.2,
             "evidence": {"bytes_read": rate, "console": f"/var/lib/conformance/runs/{run}/console.log",
                          "boot": f"CONFORMANCE-BOOT boot_id={run}-aaaa uptime=0.62"}}
    return {"format": 1, "driver": "reference", "started": started, "wall_seconds": 140.2,
            "summary": {"pass": 1, "total": 1, "verdict": "certified"},
            "cases": [{"id": CASE_ID, "verdict": "pass", "reason": "", "duration": 1.3,
                       "levels": {"host": {"checks": [check], "test": check["test"]}},
                       "note": f"guest cfm-{run}-1-rng on qemu:///system"}]}


def write(path: Path, body: dict) -> Path:
    path.mkdir()
    (path / "report.json").write_text(json.dumps(body))
    return path


def test_runs_that_differ_only_in_volatile_values_are_the_same(tmp_path, capsys):
    before = write(tmp_path / "a", report("k3j9x2ab", "2026-12-07T19:12:13Z", 4032))
    after = write(tmp_path / "b", report("q8w7e6rt", "2026-12-08T10:00:00Z", 4992))
    assert compare_reports.main([str(before), str(after)]) == 0
    assert capsys.readouterr().out.startswith("SAME: 1 report(s), 1 case rows compared")


def test_a_changed_verdict_or_reason_is_a_difference(tmp_path, capsys):
    body = report("k3j9x2ab", "2026-12-07T19:12:13Z", 4032)
    changed = copy.deepcopy(body)
    changed["cases"][0].update(verdict="error", reason="no result from host local (qemu:///system)")
    before, after = write(tmp_path / "a", body), write(tmp_path / "b", changed)
    assert compare_reports.main([str(before), str(after)]) == 1
    out = capsys.readouterr().out
    assert 'differs: report.json: cases[0].verdict: "pass" -> "error"' in out
    assert "cases[0].reason" in out and "DIFFERENT" in out.splitlines()[-1]


def test_a_fleet_compares_every_host_report(tmp_path):
    fleet = {"kind": "fleet", "hosts": [{"label": "h2", "report": "hosts/h2/report.json"}], "cases": []}
    for name, verdict in (("a", "pass"), ("b", "fail")):
        write(tmp_path / name, fleet)
        host = report("k3j9x2ab", "2026-12-07T19:12:13Z", 1)
        host["cases"][0]["verdict"] = verdict
        (tmp_path / name / "hosts" / "h2").mkdir(parents=True)
        (tmp_path / name / "hosts" / "h2" / "report.json").write_text(json.dumps(host))
    found, counts = compare_reports.compare(tmp_path / "a", tmp_path / "b")
    assert counts["reports"] == 2
    assert found == ['hosts/h2/report.json: cases[0].verdict: "pass" -> "fail"']


def test_instance_names_and_the_named_one_of_equal_checks_are_run_to_run(tmp_path):
    """A driver's random ``instance-<hex>`` name, and which of two passing checks a level names
    (the first to arrive from parallel workers), differ run to run; a check's status does not."""
    def level(first: str, name: str, second_status: str = "pass") -> dict:
        checks = [{"test": "t::test_a[x]", "status": "pass", "reason": ""},
                  {"test": "t::test_b[x]", "status": second_status, "reason": ""}]
        return {"format": 1, "cases": [{"id": CASE_ID, "verdict": "pass", "levels": {"xml": {
            "status": "pass", "test": first, "checks": checks, "evidence": {"name": name}}}}]}
    write(tmp_path / "a", level("t::test_a[x]", "instance-1fec56e4"))
    write(tmp_path / "b", level("t::test_b[x]", "instance-3c5e4c90"))
    assert compare_reports.compare(tmp_path / "a", tmp_path / "b")[0] == []
    write(tmp_path / "c", level("t::test_b[x]", "instance-3c5e4c90", second_status="skip"))
    assert compare_reports.compare(tmp_path / "a", tmp_path / "c")[0] != []
