"""A run over a fleet end to end with the pytest children and libvirt faked: one child per
host in parallel, a host that dies mid-run, --shard, a stop request, cleanup on every host."""

import json
import signal
import threading

import pytest

from conformance.catalogue import ALL_CASES
from conformance.config import Config
from conformance.report.selection import Selection
from conformance.run import certify as run_certify
from conformance.run import leftovers as cleaning
from conformance.run import one_host, reach
from conformance.run.certify import Run
from conformance.run.hosts import parse_hosts, single
from conformance.run.settings import Settings
from conformance.run.shard import selections
from conformance.report.verify import problems
from conformance.stopping import StopSignals

HOSTS = parse_hosts(["qemu:///system", "h2=qemu+tcp://10.251.2.2/system"])
AGENT = Selection(features=["agent"], max_level="xml")


def xml_pass(case_id):
    return {"nodeid": f"t::test_case[{case_id}]", "when": "call", "outcome": "passed", "duration": 0.1,
            "detail": "", "cases": [case_id], "feature": "agent", "level": "xml", "evidence": None}


@pytest.fixture
def lab(monkeypatch):
    """Fake children: every host passes its cases, except hosts named in ``dies`` (first case
    only, then the child dies and the host stops answering). Records what each child got."""
    state = {"dies": set(), "ran": {}, "threads": set(), "stop_after": None}

    def run_pytest(settings, selection, uri, parallel, out, label, scratch, env=None):
        ids = [c.id for c in ALL_CASES if selection.case_wanted(c)]
        state["ran"][label] = (ids, parallel, scratch)
        state["started"].add(uri)
        state["threads"].add(threading.current_thread().name)
        if state["stop_after"] == label:
            settings.stop._handle(signal.SIGINT, None)
        if uri in state["dies"]:
            expected = [{"nodeid": xml_pass(i)["nodeid"], "cases": [i], "level": "xml"} for i in ids]
            return {"entries": [xml_pass(ids[0])], "expected": expected, "exitstatus": None}
        return {"entries": [xml_pass(i) for i in ids], "expected": [], "exitstatus": 0}

    monkeypatch.setattr(one_host, "run_pytest", run_pytest)
    monkeypatch.setattr(run_certify, "become_subreaper", lambda: True)  # not this test process
    state["started"] = set()  # URIs whose child ran: a dying host answers until then

    def reachable(uri, timeout=0):
        return "connection refused" if uri in state["dies"] & state["started"] else None

    monkeypatch.setattr(reach, "reachable", reachable)
    monkeypatch.setattr(one_host, "host_facts", lambda uri: {"libvirt_version": "9.0.0"})
    return state


def fleet(tmp_path, stop, selection=AGENT, shard=False):
    settings = Settings("reference", "xml", "auto", Config(), stop, progress="none")
    with Run(HOSTS, stop) as run:
        return run.certify(settings, selection, tmp_path, workers=4, shard=shard)


def test_every_host_certifies_every_case_in_its_own_child(lab, tmp_path):
    with StopSignals() as stop:
        assert fleet(tmp_path, stop) == 0
    wanted = [c.id for c in ALL_CASES if AGENT.case_wanted(c)]
    assert {label: ran[0] for label, ran in lab["ran"].items()} == {"local": wanted, "h2": wanted}
    assert {ran[1] for ran in lab["ran"].values()} == {2}  # 4 workers // 2 hosts
    assert lab["threads"] == {"certify local", "certify h2"}
    assert not lab["ran"]["h2"][2].exists()  # the fleet's scratch dir is gone
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["certification"]["verdict"] == "certified"
    assert problems(tmp_path / "report.json") == (0, [])
    for label in ("local", "h2"):
        host = json.loads((tmp_path / "hosts" / label / "report.json").read_text())
        assert host["format"] == 1 and "kind" not in host and host["host"]["label"] == label


def test_a_host_that_dies_errors_naming_itself_and_spares_the_other(lab, tmp_path, capsys):
    lab["dies"] = {"qemu+tcp://10.251.2.2/system"}
    with StopSignals() as stop:
        assert fleet(tmp_path, stop) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["certification"]["hosts"] == {"local": "certified", "h2": "not certified"}
    first, *rest = report["cases"]
    assert first["hosts"]["h2"]["verdict"] == "pass"  # delivered before the host died
    for row in rest:
        assert row["hosts"]["local"]["verdict"] == "pass"
        reason = row["hosts"]["h2"]["reason"]
        assert row["hosts"]["h2"]["verdict"] == "error"
        assert reason.startswith("xml: host h2 (qemu+tcp://10.251.2.2/system) unreachable: connection refused")
    inner = json.loads((tmp_path / "hosts" / "h2" / "report.json").read_text())
    assert "no result from host h2 (qemu+tcp://10.251.2.2/system)" in inner["cases"][1]["levels"]["xml"]["reason"]
    out = capsys.readouterr().out
    assert "certify[local]: CERTIFIED" in out and "certify[h2]: NOT CERTIFIED" in out
    assert out.splitlines()[-2].startswith("certify: FLEET NOT CERTIFIED: 1/2 hosts certified")


def test_shard_splits_the_cases_once_across_hosts(lab, tmp_path):
    with StopSignals() as stop:
        assert fleet(tmp_path, stop, shard=True) == 0
    shares = [set(ran[0]) for ran in lab["ran"].values()]
    wanted = {c.id for c in ALL_CASES if AGENT.case_wanted(c)}
    assert shares[0] and shares[1] and not shares[0] & shares[1] and shares[0] | shares[1] == wanted
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["mode"] == "shard" and all(len(row["hosts"]) == 1 for row in report["cases"])


def test_shard_keeps_the_other_filters():
    settings = Settings("reference", "xml", "auto", Config(), None)
    picked = Selection(features=["agent", "rng"], exclude=["unset"], max_level="xml")
    shares = selections(settings, HOSTS, picked, shard=True)
    for share in shares.values():
        assert share.features == ["agent", "rng"] and share.exclude == ["unset"] and share.ids


def test_a_stop_marks_every_report_interrupted(lab, tmp_path):
    lab["stop_after"] = "h2"
    with StopSignals() as stop:
        assert fleet(tmp_path, stop) == 130
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["certification"]["verdict"] == "interrupted"
    for label in ("local", "h2"):  # also the host whose child had finished before the stop
        host = json.loads((tmp_path / "hosts" / label / "report.json").read_text())
        assert host["certification"]["verdict"] == "interrupted"


def test_cleanup_after_a_stop_reaches_every_host_and_reports_failures(monkeypatch):
    cleaned = []

    def clean_one(uri, options):
        if "dead" in uri:
            raise RuntimeError("unreachable")
        cleaned.append(uri)
        return type("Report", (), {"removed_domains": [f"cfm-x-{len(cleaned)}"]})()

    monkeypatch.setattr(cleaning, "clean_one", clean_one)
    found = cleaning.clean_hosts(["qemu:///system", "qemu+tcp://dead/system", "qemu+tcp://b/system"], 10)
    assert [(uri, error) for uri, _, error in found] == [
        ("qemu:///system", None), ("qemu+tcp://dead/system", "unreachable"), ("qemu+tcp://b/system", None)]
    assert sorted(cleaned) == ["qemu+tcp://b/system", "qemu:///system"]


def test_a_host_whose_cleanup_hangs_is_abandoned_in_time(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(cleaning, "clean_one", lambda uri, options: release.wait(30))
    try:
        [(uri, report, error)] = cleaning.clean_reports(["qemu+tcp://slow/system"], 0.3)
        assert report is None and error == "no answer within 0.3 s"
    finally:
        release.set()


def test_a_host_unreachable_from_the_start_runs_no_child(lab, tmp_path):
    lab["dies"] = {"qemu+tcp://10.251.2.2/system"}
    lab["started"].add("qemu+tcp://10.251.2.2/system")  # never answers
    with StopSignals() as stop:
        assert fleet(tmp_path, stop) == 1
    assert set(lab["ran"]) == {"local"}
    report = json.loads((tmp_path / "report.json").read_text())
    h2 = report["hosts"][1]
    assert h2["accelerator"] == "unknown" and "unreachable: connection refused" in h2["problem"]
    assert all(row["hosts"]["h2"]["verdict"] == "error" for row in report["cases"])


def test_a_host_that_died_keeps_real_failures_and_names_itself_in_the_problem(lab, tmp_path, monkeypatch):
    """Checks that reached a verdict before libvirtd vanished stay failures (the driver's);
    the host is found unreachable after its run and named in its certification problem."""
    lab["dies"] = {"qemu+tcp://10.251.2.2/system"}
    real = one_host.run_pytest

    def failing(settings, selection, uri, *rest):
        results = real(settings, selection, uri, *rest)
        if uri in lab["dies"]:
            results["entries"] = [dict(e, outcome="failed", detail="wrong watchdog model")
                                  for e in results["entries"]]
            results["exitstatus"] = 1
        return results

    monkeypatch.setattr(one_host, "run_pytest", failing)
    with StopSignals() as stop:
        assert fleet(tmp_path, stop) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    rows = [row["hosts"]["h2"] for row in report["cases"]]
    assert "fail" in {r["verdict"] for r in rows} <= {"fail", "error"}
    assert all("h2" in r["reason"] for r in rows if r["verdict"] == "error")
    assert all("wrong watchdog model" in r["reason"] for r in rows if r["verdict"] == "fail")
    [h2] = [h for h in report["hosts"] if h["label"] == "h2"]
    assert "unreachable: connection refused" in h2["problem"]


def test_a_host_whose_error_report_also_fails_costs_no_other_host_its_report(lab, tmp_path,
                                                                             monkeypatch):
    """A host whose certification raises, and whose fallback (the reports in which every case
    errors) raises too, still gets a place in the fleet report: every case an error naming
    both reasons; the other host keeps its verdicts and the fleet report is written."""
    real = run_certify.certify_host

    def certify_host(settings, host, selection, out, *rest, failed=None):
        if "10.251.2.2" in host.uri:
            raise OSError("disk full" if failed else "the child could not start")
        return real(settings, host, selection, out, *rest, failed=failed)

    monkeypatch.setattr(run_certify, "certify_host", certify_host)
    with StopSignals() as stop:
        assert fleet(tmp_path, stop) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["certification"]["hosts"] == {"local": "certified", "h2": "not certified"}
    assert report["cases"] and all(row["hosts"]["local"]["verdict"] == "pass" for row in report["cases"])
    for row in report["cases"]:
        assert row["hosts"]["h2"]["verdict"] == "error"
        assert "the child could not start" in row["hosts"]["h2"]["reason"]
    [h2] = [h for h in report["hosts"] if h["label"] == "h2"]
    assert "the child could not start" in h2["problem"] and "disk full" in h2["problem"]
    assert problems(tmp_path / "report.json") == (0, [])


def alone(tmp_path, stop, uri, lab):
    lab["stop_after"] = "nobody"  # a single host's child has no label
    settings = Settings("reference", "xml", "auto", Config(), stop, progress="none")
    with Run([single(uri)], stop) as run:
        return run.certify(settings, AGENT, tmp_path, workers=2)


def test_one_host_unreachable_from_the_start_runs_no_child_and_blames_itself(lab, tmp_path):
    """A fleet of one: the same reachability rule as every fleet host (no child runs, every
    case an error naming the host), its reports in OUT/ without a label."""
    uri = "qemu+tcp://10.251.2.2/system"
    lab["dies"], lab["started"] = {uri}, {uri}
    with StopSignals() as stop:
        assert alone(tmp_path, stop, uri, lab) == 1
    assert lab["ran"] == {}
    report = json.loads((tmp_path / "report.json").read_text())
    assert "label" not in report["host"] and report["host"]["accelerator"] == "unknown"
    why = "host 10.251.2.2 (qemu+tcp://10.251.2.2/system) unreachable: connection refused"
    assert report["certification"]["problem"] == why
    assert report["cases"] and all(c["verdict"] == "error" and why in c["reason"] for c in report["cases"])
    assert problems(tmp_path / "report.json") == (0, [])


def test_one_host_that_dies_mid_run_blames_itself(lab, tmp_path):
    """Found unreachable after a run with missing results: its unfinished cases are errors
    naming it, the case it delivered keeps its verdict."""
    uri = "qemu+tcp://10.251.2.2/system"
    lab["dies"] = {uri}
    with StopSignals() as stop:
        assert alone(tmp_path, stop, uri, lab) == 1
    first, *rest = json.loads((tmp_path / "report.json").read_text())["cases"]
    assert first["verdict"] == "pass" and rest
    assert all(c["verdict"] == "error" and "host 10.251.2.2 (qemu+tcp://10.251.2.2/system) "
               "unreachable: connection refused" in c["reason"] for c in rest)


def test_the_run_kills_orphans_once_then_removes_its_temp_dirs(lab, tmp_path, monkeypatch):
    """Orphans of every host's child are killed in one place, when every host is done and
    before the temp dirs (where their files are) go; one host or several alike."""
    seen = []
    monkeypatch.setattr(run_certify, "kill_orphans",
                        lambda: seen.append([path.exists() for _, _, path in lab["ran"].values()]))
    temp_dirs = []
    with StopSignals() as stop:
        assert alone(tmp_path / "one", stop, "qemu:///system", lab) == 0
        temp_dirs += [path for _, _, path in lab["ran"].values()]
        lab["ran"].clear()
        assert fleet(tmp_path / "two", stop) == 0
        temp_dirs += [path for _, _, path in lab["ran"].values()]
    assert seen == [[True], [True, True]]  # once per run, each host's temp dir still there
    assert len(temp_dirs) == 3 and not [path for path in temp_dirs if path.exists()]


def test_kill_orphans_has_one_caller():
    """Only the run kills orphans (conformance.run.certify.Run.__exit__)."""
    import ast
    from pathlib import Path
    calls = []
    for path in (Path(run_certify.__file__).parents[1]).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "kill_orphans":
                calls.append(path.name)
    assert calls == ["certify.py"]
