"""Broken exec driver: valid domain XML padded to several megabytes (a <description>)."""

import sys

from lxml import etree

from conformance.contract import Request
from conformance.reference import ReferenceDriver

if __name__ == "__main__":
    dom = etree.fromstring(ReferenceDriver().build(Request.from_json(sys.stdin.read())))
    etree.SubElement(dom, "description").text = "x" * (4 << 20)
    sys.stdout.write(etree.tostring(dom, encoding="unicode"))
