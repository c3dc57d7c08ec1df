"""Broken exec driver: valid domain XML padded to several megabytes (a <description>)."""

from lxml import etree

from conformance.contract import Request
from conformance.reference import ReferenceDriver

from _exec import serve


def answer(request: str) -> str:
    dom = etree.fromstring(ReferenceDriver().build(Request.from_json(request)))
    etree.SubElement(dom, "description").text = "x" * (4 << 20)
    return etree.tostring(dom, encoding="unicode")


if __name__ == "__main__":
    serve(answer)
