"""Broken exec driver: exits 0 but prints junk instead of XML."""

import sys

if __name__ == "__main__":
    sys.stdin.read()
    print("Domain created successfully! (not XML)")
