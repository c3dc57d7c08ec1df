"""Broken exec driver: reference XML, but with the <name> and <uuid> given in argv (e.g. a
foreign domain's, to try to redefine it)."""

import sys

from lxml import etree

from conformance.contract import Request
from conformance.reference import ReferenceDriver

from _exec import serve


def answer(request: str) -> str:
    name, uuid = sys.argv[1:3]
    dom = etree.fromstring(ReferenceDriver().build(Request.from_json(request)))
    dom.find("name").text = name
    dom.find("uuid").text = uuid
    return etree.tostring(dom, encoding="unicode")


if __name__ == "__main__":
    serve(answer)
