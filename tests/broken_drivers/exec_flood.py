"""Broken exec driver: floods stdout without end."""

import sys

from _exec import serve


def answer(request: str) -> str:
    chunk = b"<domain>" * 8192
    while True:
        sys.stdout.buffer.write(chunk)


if __name__ == "__main__":
    serve(answer)
