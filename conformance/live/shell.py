"""Run small shell snippets in the guest through the guest agent (busybox sh)."""

from __future__ import annotations

from conformance.errors import GuestError
from conformance.live import clip


def sh(guest, script: str, timeout: float = 30):
    """Run ``script`` with /bin/sh in the guest; return the CommandResult (any rc)."""
    return guest.exec(["/bin/sh", "-c", script], timeout=timeout)


def sh_ok(guest, script: str, timeout: float = 30) -> str:
    """Run ``script``; return its stdout, raise GuestError on a non-zero exit."""
    result = sh(guest, script, timeout)
    if result.rc != 0:
        raise GuestError(f"guest command failed (rc={result.rc}): {script!r}; "
                         f"stderr: {clip(result.stderr)}")
    return text(result.stdout)


def text(data) -> str:
    return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")


def key_values(output: str) -> dict[str, str]:
    """``key=value`` lines (the cpuid / perfprobe helpers' format) as a dict."""
    out = {}
    for line in output.splitlines():
        key, sep, value = line.strip().partition("=")
        if sep:
            out[key] = value
    return out


def read_sysfs(guest, pattern: str) -> dict[str, str]:
    """{path: first line} for every file matching the glob ``pattern`` in the guest."""
    script = f'for f in {pattern}; do [ -r "$f" ] && printf "%s\\t%s\\n" "$f" "$(head -n1 "$f")"; done; true'
    out = {}
    for line in sh_ok(guest, script).splitlines():
        path, sep, value = line.partition("\t")
        if sep:
            out[path] = value
    return out
