"""Broken exec driver: floods stdout without end."""

import sys

if __name__ == "__main__":
    sys.stdin.read()
    chunk = b"<domain>" * 8192
    while True:
        sys.stdout.buffer.write(chunk)
