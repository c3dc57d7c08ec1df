"""Hostile guests: what a guest says (guest-exec output, console) is untrusted data, read
only up to a cap and never evaluated on the host."""

from __future__ import annotations

import pytest

from conformance.lab.guest import MAX_CONSOLE, MAX_OUTPUT, AgentError

pytestmark = pytest.mark.functional


@pytest.mark.parametrize("size", [MAX_OUTPUT + 4096, 2 * MAX_OUTPUT])
def test_exec_output_beyond_the_cap_is_cut_at_the_cap(booted_guest, size):
    """A guest command printing more than MAX_OUTPUT bytes gives back exactly the first
    MAX_OUTPUT bytes, with its real exit code (not an undecodable stream or a timeout)."""
    done = booted_guest.shell(f"yes A | head -c {size}", timeout=60)
    assert done.rc == 0
    assert len(done.stdout) == MAX_OUTPUT and done.stdout.startswith(b"A\nA\n")
    assert set(done.stdout) == {ord("A"), ord("\n")}


def test_exec_output_beyond_libvirts_message_cap_is_a_named_error(booted_guest):
    """Output so large that its base64 exceeds libvirt's 4 MiB RPC string cap ends at once
    in AgentError (libvirt: "Unable to encode message payload"), not in a 60 s timeout."""
    with pytest.raises(AgentError, match="guest-exec-status"):
        booted_guest.shell(f"yes A | head -c {3 * MAX_OUTPUT}", timeout=60)
    assert booted_guest.ping()


def test_console_flood_is_read_up_to_the_cap(booted_guest):
    """A console log larger than MAX_CONSOLE (the guest wrote to its serial port, then the
    file was padded on the host to stand for a long flood: the emulated UART under TCG
    is too slow to write megabytes in a test): console_log() returns at most
    MAX_CONSOLE bytes' worth, the tail helper and boot_ids() still work."""
    booted_guest.shell("yes 'guest says $(reboot)' | head -c 65536 > /dev/ttyS0", timeout=120)
    with open(booted_guest.console_path, "ab") as log:
        log.write(b"C" * (MAX_CONSOLE + (1 << 20)))
    assert booted_guest.console_path.stat().st_size > MAX_CONSOLE
    assert len(booted_guest.console_log().encode()) <= MAX_CONSOLE
    assert len(booted_guest.console_tail(5)) <= MAX_CONSOLE
    assert len(booted_guest.boot_ids()) == 1


def test_guest_output_is_never_evaluated(booted_guest, tmp_path):
    """Shell metacharacters and JSON in guest output come back as plain bytes; nothing on
    the host runs them (the canary file is never created)."""
    canary = tmp_path / "canary"
    payload = f'$(touch {canary}); `touch {canary}`; {{"__import__": "os"}}'
    done = booted_guest.exec(["/bin/echo", payload])
    assert done.stdout == payload.encode() + b"\n"
    assert not canary.exists()
