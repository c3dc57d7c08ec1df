"""A testinfra backend that runs commands in the guest through the guest agent."""

from __future__ import annotations

from typing import Any

import testinfra.host
from testinfra.backend import base


class GuestAgentBackend(base.BaseBackend):
    """``host.run("uname -r")`` becomes guest-exec of ``/bin/sh -c 'uname -r'``."""

    NAME = "guest-agent"

    def __init__(self, guest, timeout: float = 30, **kwargs: Any):
        self.guest = guest
        self.timeout = timeout
        super().__init__(guest.name, **kwargs)

    def get_pytest_id(self) -> str:
        return f"guest-agent://{self.guest.name}"

    def get_encoding(self) -> str:
        return "utf-8"  # the guest has no python to ask; busybox speaks UTF-8/ASCII

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        command = self.get_command(command, *args)
        done = self.guest.exec(["/bin/sh", "-c", command], timeout=self.timeout)
        return self.result(done.rc, self.encode(command), done.stdout, done.stderr)


def guest_host(guest, timeout: float = 30) -> testinfra.host.Host:
    """A testinfra Host for ``guest`` (modules: file, run, process, sysctl, ...)."""
    return testinfra.host.Host(GuestAgentBackend(guest, timeout=timeout))
