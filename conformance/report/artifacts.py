"""Artefacts of a failed or errored check: what a user needs to debug it, kept with the reports.

For a guest (:func:`guest_pieces`): its serial console, QEMU's log, every definition (the
driver's XML and the XML libvirt booted, before and after an operation), the libvirt events
seen, the QMP answers the checks got and, when the agent answers, the guest's ``dmesg``; for
a level-1 check (:func:`xml_pieces`) the driver's XML. On a remote host the console is a
volume of the harness pool and the QEMU log comes over ssh, like every other host fact
(a host without a shell says so instead).

All of it is guest- or driver-controlled data: it is copied byte for byte (never parsed,
run or used as a name), each file is cut at its limit, a snapshot and the whole run have a
budget, and :class:`Store` writes only harness-chosen names in a directory of its own
inside the results directory (no symlink followed, no existing file replaced). Every file
is an entry of the report (:func:`entry` fields), which says when it was cut.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

KiB, MiB = 1 << 10, 1 << 20
LIMITS = {"console": 1 * MiB, "qemu-log": 512 * KiB, "xml": 1 * MiB, "events": 64 * KiB,
          "qmp": 256 * KiB, "dmesg": 256 * KiB}
SNAPSHOT_BUDGET = 4 * MiB   # all files of one snapshot (one guest, one failure)
RUN_BUDGET = 64 * MiB       # the artefacts directory of one results directory
AGENT_TIMEOUT = 10          # seconds for the guest agent's ping and dmesg
DIRECTORY = "artifacts"
FILE_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,47}$")
OPERATION = re.compile(r"^[a-z][a-z_]{0,19}$")
LEVELS = ("xml", "host", "guest", "live", "test")


@dataclass
class Piece:
    """One file of a snapshot: ``data`` (None when ``unavailable`` says why), the size the
    source had when known, and the limit it was cut at."""
    name: str
    what: str
    data: bytes | None
    limit: int
    size: int | None = None
    unavailable: str | None = None


def bounded(name: str, what: str, data: bytes, limit: int, size: int | None = None) -> Piece:
    """``data`` cut at ``limit``; ``size`` is the source's (default: len(data), which a
    reader asked for ``limit + 1`` bytes shows to be cut)."""
    return Piece(name, what, data[:limit], limit, size if size is not None else len(data))


def missing(name: str, what: str, why: str) -> Piece:
    return Piece(name, what, None, 0, unavailable=" ".join(str(why).split())[:300])


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _fetch(name: str, what: str, limit: int, read) -> Piece:
    try:
        return bounded(name, what, read(limit + 1), limit)
    except FileNotFoundError:
        return missing(name, what, "the file does not exist (any more) on the libvirt host")
    except Exception as exc:  # noqa: BLE001 - a piece that cannot be had says why, never breaks the report
        return missing(name, what, _why(exc))


def _json(name: str, what: str, value, limit: int) -> Piece:
    data = json.dumps(value, indent=1, default=str, ensure_ascii=True).encode()
    return bounded(name, what, data, limit)


def guest_pieces(guest, agent: bool = True) -> list[Piece]:
    """Everything kept of ``guest`` (a :class:`conformance.lab.guest.Guest`) now; ``agent``:
    ask its guest agent for ``dmesg`` (only when it answers a ping)."""
    from conformance.lab.teardown import qemu_log_path
    pieces = [_fetch("console.log", "serial console of the guest", LIMITS["console"], guest.console.read),
              _fetch("qemu.log", f"QEMU's log on the libvirt host ({qemu_log_path(guest.name)})",
                     LIMITS["qemu-log"], lambda n: guest.host.read_bytes(qemu_log_path(guest.name), n))]
    pieces += definition_pieces(guest.history.definitions())
    try:
        events = [{"at": max(0.0, round(e.at - guest.history.started, 3)), "kind": e.kind, "detail": e.detail}
                  for e in guest.events]
        pieces.append(_json("events.json", "libvirt events of the domain (seconds since its start)",
                            events, LIMITS["events"]))
    except Exception as exc:  # noqa: BLE001
        pieces.append(missing("events.json", "libvirt events of the domain", _why(exc)))
    pieces.append(_json("qmp.json", "QMP commands the checks ran and QEMU's answers (the last 64)",
                        guest.history.qmp_answers(), LIMITS["qmp"]))
    pieces.append(dmesg_piece(guest) if agent else
                  missing("dmesg.txt", "the guest's kernel log", "not asked: the guest has no agent"))
    return pieces


def definition_pieces(definitions: list[dict]) -> list[Piece]:
    """``driver-OP.xml`` (the driver's answer) and ``booted-OP.xml`` (libvirt's live XML once
    started) per definition; a repeated operation gets ``-2``, ``-3``..."""
    pieces, seen = [], {}
    for record in definitions:
        operation = record.get("operation") or ""
        operation = operation if OPERATION.match(operation) else "operation"
        seen[operation] = seen.get(operation, 0) + 1
        tag = operation if seen[operation] == 1 else f"{operation}-{seen[operation]}"
        for kind, what in (("driver", f"the driver's domain XML ({operation})"),
                           ("booted", f"the domain XML libvirt booted ({operation})")):
            text = record.get(kind)
            if text is None:
                why = ("the sandbox refused the driver's XML, nothing was defined"
                       if record.get("defined") is None else "libvirt did not start this definition")
                pieces.append(missing(f"{kind}-{tag}.xml", what, why))
            else:
                pieces.append(bounded(f"{kind}-{tag}.xml", what, text.encode(errors="replace"), LIMITS["xml"]))
    return pieces


def dmesg_piece(guest) -> Piece:
    what = "the guest's kernel log (dmesg, through the guest agent)"
    try:
        guest.agent("guest-ping", timeout=AGENT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return missing("dmesg.txt", what, f"the guest agent did not answer: {_why(exc)}")
    try:
        done = guest.exec(["dmesg"], timeout=AGENT_TIMEOUT)
    except Exception as exc:  # noqa: BLE001
        return missing("dmesg.txt", what, _why(exc))
    return bounded("dmesg.txt", what, done.stdout, LIMITS["dmesg"])


def xml_pieces(driver_xml: str | None) -> list[Piece]:
    if not driver_xml:
        return []
    return [bounded("driver.xml", "the driver's domain XML (level 1)",
                    driver_xml.encode(errors="replace"), LIMITS["xml"])]


def entry(piece: Piece, path: str | None, written: int = 0, guest: str | None = None) -> dict:
    """The report's record of ``piece`` (``path`` relative to the results directory)."""
    found = {"name": piece.name, "what": piece.what}
    if guest:
        found["guest"] = guest
    if path is None:
        found["unavailable"] = piece.unavailable or "not written"
        return found
    found.update(path=path, bytes=written, limit=piece.limit,
                 truncated=piece.size is not None and piece.size > written)
    return found


def tree_size(root: Path) -> int:
    """Bytes of the regular files one level below ``root``'s directories (symlinks not followed)."""
    total = 0
    try:
        with os.scandir(root) as dirs:
            for directory in dirs:
                if directory.is_dir(follow_symlinks=False):
                    with os.scandir(directory.path) as files:
                        total += sum(f.stat(follow_symlinks=False).st_size for f in files
                                     if f.is_file(follow_symlinks=False))
    except FileNotFoundError:
        pass
    return total


class Store:
    """Writes snapshots into ``results_dir/artifacts/<tag>-<n>-<level>/`` (``tag``: this
    process, e.g. the xdist worker ``gw0``); each snapshot is a new directory."""

    def __init__(self, results_dir: Path, tag: str = "main", budget: int = RUN_BUDGET):
        self.results = Path(results_dir)
        self.tag = tag if re.match(r"^(gw\d{1,4}|main)$", tag) else "main"
        self.budget = budget
        self._count = 0
        self._lock = threading.Lock()

    def _root(self) -> Path:
        self.results.mkdir(parents=True, exist_ok=True)
        root = self.results / DIRECTORY
        try:
            root.mkdir()
        except FileExistsError:
            pass
        if root.is_symlink() or not root.is_dir():
            raise OSError(f"{root} is not a directory of ours (a symlink?)")
        return root

    def _new_dir(self, root: Path, level: str) -> str:
        level = level if level in LEVELS else "test"
        while True:
            self._count += 1
            name = f"{self.tag}-{self._count:03d}-{level}"
            try:
                os.mkdir(root / name, 0o755)
                return name
            except FileExistsError:
                continue

    def write(self, pieces: list[Piece], level: str, guest: str | None = None) -> list[dict]:
        """Write ``pieces`` (bounded) into a new snapshot directory; their report entries.
        Nothing is written once the run's budget is used up (the entries say so)."""
        with self._lock:
            try:
                root = self._root()
                if tree_size(root) >= self.budget:
                    return [entry(missing(p.name, p.what, f"the run's artefact budget of "
                                          f"{self.budget // MiB} MiB is used up"), None, guest=guest)
                            for p in pieces]
                name = self._new_dir(root, level)
            except OSError as exc:
                return [entry(missing(p.name, p.what, f"cannot write artefacts: {exc}"), None, guest=guest)
                        for p in pieces]
            return self._fill(root / name, f"{DIRECTORY}/{name}", pieces, guest)

    def _fill(self, where: Path, relative: str, pieces: list[Piece], guest: str | None) -> list[dict]:
        entries, left = [], SNAPSHOT_BUDGET
        fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            for piece in pieces:
                if piece.data is None or not FILE_NAME.match(piece.name):
                    entries.append(entry(piece if piece.data is None else
                                         missing(piece.name[:48], piece.what, "not a file name of ours"),
                                         None, guest=guest))
                    continue
                if left <= 0:
                    entries.append(entry(missing(piece.name, piece.what, f"the snapshot's budget of "
                                                 f"{SNAPSHOT_BUDGET // MiB} MiB is used up"), None, guest=guest))
                    continue
                data = piece.data[:left]
                _write_new(fd, piece.name, data)
                left -= len(data)
                entries.append(entry(piece, f"{relative}/{piece.name}", len(data), guest))
        finally:
            os.close(fd)
        return entries


def _write_new(dir_fd: int, name: str, data: bytes) -> None:
    """Create ``name`` in the directory ``dir_fd`` (never an existing file or a symlink)."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


LINK = re.compile(r"^(attempts/[0-9]{1,3}/)?artifacts/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}/[a-z][a-z0-9_.-]{0,47}$")


def read_linked(base: Path, path: str, limit: int = 4 * MiB) -> bytes | None:
    """The file a report entry links (``path`` relative to the report directory ``base``),
    at most ``limit`` bytes; None when the path is not one of ours or the file is gone.
    No symlink is followed in the artefact's own directory."""
    if not LINK.match(path):
        return None
    directory, name = os.path.split(path)
    try:
        dir_fd = os.open(Path(base) / directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        with os.fdopen(fd, "rb") as source:
            return source.read(limit)
    except OSError:
        return None
    finally:
        os.close(dir_fd)


def mime_type(name: str) -> str:
    if name.endswith(".xml"):
        return "application/xml"
    if name.endswith(".json"):
        return "application/json"
    return "text/plain; charset=utf8"


def describe(item: dict) -> str:
    """One line about an entry: what it is, its size and whether it was cut (or why it is missing)."""
    if "path" not in item:
        return f"{item['name']}: not kept: {item.get('unavailable', '')}"
    size = item.get("bytes", 0)
    cut = f", cut at {item['limit'] // KiB} KiB" if item.get("truncated") else ""
    return f"{item['path']}: {item['what']} ({size} bytes{cut})"


def linked_paths(report: dict) -> list[str]:
    """Every artefact path a single-host report links (its cases, levels and attempts)."""
    found: dict[str, None] = {}
    for case in report.get("cases") or []:
        lists = [case.get("artifacts")] + [lvl.get("artifacts") for lvl in (case.get("levels") or {}).values()]
        lists += [attempt.get("artifacts") for attempt in case.get("attempts") or []]
        for entries in lists:
            for item in entries or ():
                if isinstance(item, dict) and isinstance(item.get("path"), str):
                    found[item["path"]] = None
    return list(found)


def copy_linked(report: dict, source: Path, target: Path) -> int:
    """Copy the artefacts ``report`` links from its directory ``source`` to ``target`` (only
    paths of ours, regular files, no symlink followed, each at most a run's budget); how many."""
    copied = 0
    for path in linked_paths(report):
        data = read_linked(source, path, RUN_BUDGET)
        if data is None or Path(source).resolve() == Path(target).resolve():
            continue
        where = Path(target) / os.path.dirname(path)
        where.mkdir(parents=True, exist_ok=True)
        fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            try:
                _write_new(fd, os.path.basename(path), data)
            except FileExistsError:
                continue
        finally:
            os.close(fd)
        copied += 1
    return copied
