"""Broken exec driver: complains on stderr and exits 1."""

import sys

from _exec import serve


def answer(request: str) -> str:
    print("Traceback (most recent call last):\nRuntimeError: driver exploded", file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    serve(answer)
