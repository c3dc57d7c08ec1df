"""The serial console log of a guest: a file on this machine (local libvirt) or a volume in
the harness pool of a remote host (:mod:`conformance.lab.storage`)."""

from __future__ import annotations

from pathlib import Path

from conformance.errors import HarnessError


class LocalConsole:
    """The serial console log, a file on this machine (local libvirt)."""

    def __init__(self, path: str):
        self.path = path

    def read(self, limit: int) -> bytes:
        try:
            with open(self.path, "rb") as log:
                return log.read(limit)
        except OSError:
            return b""

    def remove(self) -> None:
        Path(self.path).unlink(missing_ok=True)


class VolumeConsole:
    """The serial console log, a volume in the harness pool of a remote host."""

    def __init__(self, files, name: str, path: str):
        self.files, self.name, self.path = files, name, path

    def read(self, limit: int) -> bytes:
        try:
            return self.files.read(self.name, limit)
        except HarnessError:
            return b""

    def remove(self) -> None:
        try:
            self.files.delete(self.name)
        except HarnessError:
            pass
