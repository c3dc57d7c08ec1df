"""Broken exec driver: complains on stderr and exits 1."""

import sys

if __name__ == "__main__":
    sys.stdin.read()
    print("Traceback (most recent call last):\nRuntimeError: driver exploded", file=sys.stderr)
    sys.exit(1)
