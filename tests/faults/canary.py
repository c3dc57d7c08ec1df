"""Canary files for hostile-driver tests: what a hostile answer aims at on the host.

A temp dir under /var/tmp that the test owns (world-readable and -writable, so that QEMU
and libvirt's helpers could reach it as any user: a refusal, not a permission, must keep
them out) holding:

- ``existing``: a world-readable file a hostile answer would read, overwrite or delete;
- ``created``: a path that must never come to exist (a serial/log/nvram file);
- ``script``: an executable a hostile answer names as ``<emulator>`` or ``<script>``; when
  anything runs it, it appends its uid and arguments to ``ran``, which must never exist.

:meth:`Canaries.changes` compares existence, content, owner and mode with how the test
made them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

EXISTING_TEXT = "canary: must stay exactly like this\n"


def _state(path: Path) -> tuple | None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    return info.st_uid, info.st_gid, oct(info.st_mode), digest


class Canaries:
    """A canary dir and its files; ``remove()`` deletes the dir (also as a context manager)."""

    def __init__(self, root: str = "/var/tmp"):
        self.dir = Path(tempfile.mkdtemp(prefix="cfm-canary-", dir=root))
        os.chmod(self.dir, 0o777)
        self.existing = self.dir / "existing"
        self.created = self.dir / "created"
        self.script = self.dir / "script"
        self.ran = self.dir / "ran"
        self.existing.write_text(EXISTING_TEXT)
        os.chmod(self.existing, 0o644)
        self.script.write_text(f'#!/bin/sh\necho "$(id -u) $0 $*" >> {self.ran}\nexit 1\n')
        os.chmod(self.script, 0o755)
        self._made = {p: _state(p) for p in self.paths()}

    def paths(self) -> list[Path]:
        return [self.dir, self.existing, self.created, self.script, self.ran]

    def changes(self) -> list[str]:
        """Every canary that is not as the test made it (empty: untouched)."""
        found = []
        for path, made in self._made.items():
            now = _state(path)
            if now != made:
                found.append(f"{path}: {made} -> {now}")
        extra = sorted(p.name for p in self.dir.iterdir()
                       if p not in self._made) if self.dir.is_dir() else []
        found += [f"{self.dir / name}: appeared" for name in extra]
        if self.ran.exists():
            found.append(f"the canary script ran: {self.ran.read_text()!r}")
        return found

    def assert_untouched(self) -> None:
        changes = self.changes()
        assert changes == [], "canaries touched:\n  " + "\n  ".join(changes)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "Canaries":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
