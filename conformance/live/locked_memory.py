"""Locked memory, live: what the QEMU process got (host level only).

Host: ``-overcommit mem-lock=on`` (``off`` when not locked), QEMU's RLIMIT_MEMLOCK at
least the guest RAM (libvirt raises it to unlimited or the memtune hard limit), and
``VmLck`` in /proc/PID/status close to the guest RAM. Whether such a guest can start at
all is decided *before* booting from measured host limits
(:func:`conformance.host.capabilities.locked_memory_blocker`). There is no guest level:
the guest cannot observe that its RAM is locked.
"""

from __future__ import annotations

from conformance.host import capabilities
from conformance.live import HOST, expect
from conformance.live import qemu

FEATURE = "locked_memory"
VMLCK_FRACTION = 0.9  # QEMU locks all guest RAM plus its own pages once mem-lock=on


def boot_blocker(guest_ram_bytes: int, caps: capabilities.HostCapabilities | None = None
                 ) -> str | None:
    """The measured reason a locked-memory guest cannot start here, or None."""
    return capabilities.locked_memory_blocker(caps or capabilities.probe(), guest_ram_bytes)


def check_host(guest, locked: bool, guest_ram_bytes: int) -> dict:
    """mem-lock, RLIMIT_MEMLOCK and VmLck of the QEMU process agree with ``locked``."""
    pid, host = guest.pid, getattr(guest, "host", None)
    mem_lock = qemu.overcommit(qemu.cmdline(pid, host)).get("mem-lock", "off")
    soft, hard = qemu.limit(pid, "Max locked memory", host)
    vmlck_kib = qemu.status_kib(pid, "VmLck", host)
    evidence = {"mem_lock": mem_lock, "memlock_limit": [soft, hard], "vmlck_kib": vmlck_kib,
                "guest_ram_kib": guest_ram_bytes // 1024}
    expect((mem_lock == "on") == locked, FEATURE, HOST, "-overcommit mem-lock",
           "on" if locked else "off", mem_lock, **evidence)
    if locked:
        enough = soft == "unlimited" or int(soft) >= guest_ram_bytes
        expect(enough, FEATURE, HOST, "QEMU's RLIMIT_MEMLOCK below guest RAM",
               f">= {guest_ram_bytes}", soft, **evidence)
        expect(vmlck_kib * 1024 >= VMLCK_FRACTION * guest_ram_bytes, FEATURE, HOST,
               "VmLck of QEMU", f">= {VMLCK_FRACTION:.0%} of guest RAM", vmlck_kib, **evidence)
    else:
        expect(vmlck_kib * 1024 < VMLCK_FRACTION * guest_ram_bytes, FEATURE, HOST,
               "guest RAM locked although locked memory was not requested",
               f"< {VMLCK_FRACTION:.0%} of guest RAM", vmlck_kib, **evidence)
    return evidence
