"""Broken exec driver: valid-looking domain XML behind a DOCTYPE with entity declarations."""

import sys

from conformance.contract import Request
from conformance.reference import ReferenceDriver

HEADER = """<?xml version="1.0"?>
<!DOCTYPE domain [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY secret SYSTEM "file:///etc/shadow">
]>
"""

if __name__ == "__main__":
    xml = ReferenceDriver().build(Request.from_json(sys.stdin.read()))
    sys.stdout.write(HEADER + xml.replace("panic=-1", "panic=-1 &lol2; &secret;"))
