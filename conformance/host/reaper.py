"""Run a daemon under a reaper: ``python3 reaper.py libvirtd -d``.

libvirt daemonizes QEMU, so a QEMU process that exits is reaped by the nearest "child
subreaper" above it, else by pid 1. Where pid 1 is slow to reap (measured on the CI
machines: ~1.6 s, and libvirt's ``destroy`` waits for it), every guest stop pays that.
This process makes itself a subreaper, starts the command (which daemonizes itself), and
then reaps every orphan that comes to it at once, until none is left. Stdlib only: the
bootstrap runs it with the system python3.
"""
import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: reaper.py COMMAND [ARGS...]", file=sys.stderr)
        return 2
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    status = os.spawnvp(os.P_WAIT, argv[0], argv)  # the command's own (daemonizing) process
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return status
        except InterruptedError:
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
