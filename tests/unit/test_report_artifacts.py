"""Failure artefacts (conformance.report.artifacts): what a snapshot holds, its bounds, and
that guest- or driver-controlled data never steers where or what is written."""

import os
import stat
from types import SimpleNamespace

import pytest

from conformance.errors import HostCapabilityMissing
from conformance.lab.history import GuestHistory
from conformance.report import artifacts
from conformance.report.aggregate import aggregate
from report_fakes import CASE, entry


class Console:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, limit):
        return self.data[:limit]


class Host:
    def __init__(self, log=None, error=None):
        self.log, self.error = log, error

    def read_bytes(self, path, limit):
        if self.error:
            raise self.error
        return self.log[:limit]


class Guest:
    """The parts of conformance.lab.guest.Guest a snapshot reads."""

    def __init__(self, console=b"boot\n", host=None, agent_up=True, dmesg=b"[0.0] Linux\n"):
        self.name = "cfm-run-1-live"
        self.console = Console(console)
        self.host = host or Host(b"qemu started\n")
        self.history = GuestHistory()
        self.events = [SimpleNamespace(kind="lifecycle", detail="started", at=self.history.started + 1.5)]
        self.agent_up, self.dmesg = agent_up, dmesg

    def agent(self, command, timeout=10):
        if not self.agent_up:
            raise RuntimeError("QEMU guest agent is not connected")
        return {}

    def exec(self, argv, timeout=30):
        assert argv == ["dmesg"]
        return SimpleNamespace(stdout=self.dmesg)


def names(entries):
    return {e["name"]: e for e in entries}


def test_a_guest_snapshot_holds_every_piece_and_is_readable_by_its_writer(tmp_path):
    """Console, QEMU log, the driver's and the booted XML per definition, events, QMP
    answers and dmesg land in one new directory inside the results directory, each linked
    by a relative path, owned and readable by the user who ran the check."""
    guest = Guest()
    guest.history.defined("create", "<domain>driver</domain>", "<domain>sandboxed</domain>")
    guest.history.booted("<domain>live</domain>")
    record = guest.history.defined("resize", "<domain>after</domain>")
    record["defined"] = "<domain>after, sandboxed</domain>"
    guest.history.booted("<domain>live after</domain>")
    guest.history.qmp("query-pci", None, [{"bus": 0}])
    guest.history.qmp("qom-get", {"path": "/x"}, error="Property not found")
    entries = artifacts.Store(tmp_path, "gw3").write(artifacts.guest_pieces(guest), "host", guest.name)
    found = names(entries)
    assert set(found) == {"console.log", "qemu.log", "driver-create.xml", "booted-create.xml",
                          "driver-resize.xml", "booted-resize.xml", "events.json", "qmp.json", "dmesg.txt"}
    directory = tmp_path / "artifacts" / "gw3-001-host"
    for item in entries:
        assert item["path"] == f"artifacts/gw3-001-host/{item['name']}" and not item["truncated"]
        path = tmp_path / item["path"]
        assert path.stat().st_size == item["bytes"] and path.parent == directory
        assert path.stat().st_uid == os.getuid() and path.stat().st_mode & stat.S_IRUSR
        assert item["guest"] == guest.name
    assert (directory / "booted-resize.xml").read_text() == "<domain>live after</domain>"
    assert b'"started"' in (directory / "events.json").read_bytes()
    assert b"Property not found" in (directory / "qmp.json").read_bytes()
    assert (directory / "dmesg.txt").read_bytes() == b"[0.0] Linux\n"


def test_what_cannot_be_had_says_why(tmp_path):
    """A host without a shell (tcp/tls URI), an agent that does not answer and a definition
    the sandbox refused give entries with a reason and no file."""
    guest = Guest(host=Host(error=HostCapabilityMissing("no shell on the libvirt host of qemu+tls://h/system")),
                  agent_up=False)
    guest.history.defined("create", "<domain/>", "<domain/>")
    guest.history.booted("<domain/>")
    guest.history.defined("rebuild", "<domain><evil/></domain>")  # refused: never defined
    found = names(artifacts.Store(tmp_path).write(artifacts.guest_pieces(guest), "guest"))
    assert "no shell on the libvirt host" in found["qemu.log"]["unavailable"]
    assert "did not answer" in found["dmesg.txt"]["unavailable"]
    assert "sandbox refused" in found["booted-rebuild.xml"]["unavailable"]
    assert found["driver-rebuild.xml"]["path"].endswith("/driver-rebuild.xml")
    assert not any("path" in found[n] for n in ("qemu.log", "dmesg.txt", "booted-rebuild.xml"))


def test_a_flooded_console_is_cut_and_the_entry_says_so(tmp_path):
    guest = Guest(console=b"x" * (artifacts.LIMITS["console"] + 10))
    found = names(artifacts.Store(tmp_path).write(artifacts.guest_pieces(guest), "guest"))
    console = found["console.log"]
    assert console["truncated"] and console["bytes"] == console["limit"] == artifacts.LIMITS["console"]
    assert (tmp_path / console["path"]).stat().st_size == artifacts.LIMITS["console"]


def test_a_snapshot_and_the_run_have_a_budget(tmp_path, monkeypatch):
    monkeypatch.setattr(artifacts, "SNAPSHOT_BUDGET", 100)
    big = [artifacts.bounded(f"f{i}.txt", "x", b"y" * 60, 1000) for i in range(3)]
    store = artifacts.Store(tmp_path, budget=150)
    first = store.write(big, "host")
    assert [e.get("bytes") for e in first] == [60, 40, None]
    assert first[1]["truncated"] and "snapshot's budget" in first[2]["unavailable"]
    store.write(big[:1], "host")  # 160 bytes on disk now: over the run's budget of 150
    refused = store.write(big[:1], "host")
    assert "run's artefact budget" in refused[0]["unavailable"]
    assert len(list((tmp_path / "artifacts").iterdir())) == 2


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "a/b", ".hidden", "x" * 80, "Console"])
def test_a_name_that_is_not_ours_is_never_written(tmp_path, name):
    entries = artifacts.Store(tmp_path).write([artifacts.bounded(name, "x", b"data", 100)], "host")
    assert "not a file name of ours" in entries[0]["unavailable"]
    assert [p.name for p in (tmp_path / "artifacts").rglob("*") if p.is_file()] == []
    assert not (tmp_path.parent / "escape").exists()


def test_driver_chosen_operation_and_process_tags_steer_no_path(tmp_path):
    """A definition's operation and the process tag come through a fixed pattern only."""
    pieces = artifacts.definition_pieces([{"operation": "../../etc", "driver": "<d/>", "defined": None,
                                           "booted": None}])
    assert [p.name for p in pieces] == ["driver-operation.xml", "booted-operation.xml"]
    entries = artifacts.Store(tmp_path, "../../x").write(pieces, "../../y")
    assert entries[0]["path"] == "artifacts/main-001-test/driver-operation.xml"


def test_a_symlinked_artifacts_directory_is_refused(tmp_path):
    """Nothing is written through a symlink planted where the artefacts go."""
    outside = tmp_path / "outside"
    outside.mkdir()
    results = tmp_path / "results"
    results.mkdir()
    (results / "artifacts").symlink_to(outside)
    entries = artifacts.Store(results).write([artifacts.bounded("console.log", "x", b"data", 100)], "host")
    assert "cannot write artefacts" in entries[0]["unavailable"]
    assert list(outside.iterdir()) == []


def test_aggregation_links_the_artefacts_of_checks_that_did_not_pass():
    """A failed check's artefacts reach its level and its case; a passing check's do not."""
    kept = [{"name": "console.log", "what": "c", "path": "artifacts/gw0-001-host/console.log", "bytes": 1,
             "limit": 9, "truncated": False}]
    [case] = aggregate([entry("xml"), entry("host", "failed", detail="E   boom", artifacts=kept),
                        entry("guest", artifacts=kept)], [CASE])
    assert case["levels"]["host"]["artifacts"] == kept == case["artifacts"]
    assert "artifacts" not in case["levels"]["guest"] and "artifacts" not in case["levels"]["xml"]
