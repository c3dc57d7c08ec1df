"""Broken exec driver: valid-looking domain XML behind a DOCTYPE with entity declarations."""

from conformance.contract import Request
from conformance.reference import ReferenceDriver

from _exec import serve

HEADER = """<?xml version="1.0"?>
<!DOCTYPE domain [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY secret SYSTEM "file:///etc/shadow">
]>
"""


def answer(request: str) -> str:
    xml = ReferenceDriver().build(Request.from_json(request))
    return HEADER + xml.replace("panic=-1", "panic=-1 &lol2; &secret;")


if __name__ == "__main__":
    serve(answer)
