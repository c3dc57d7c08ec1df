"""A protocol-2 reference driver that is right on create and wrong after one operation."""

from __future__ import annotations

from typing import Callable

from lxml import etree

from conformance.contract import Request
from conformance.reference import ReferenceDriver


class BrokenAfter:
    """Reference behaviour, except for requests of ``operation``: ``rewrite_request`` is
    applied to the request and ``rewrite_xml`` to the domain built from it."""

    protocol = 2

    def __init__(self, name: str, operation: str,
                 rewrite_request: Callable[[Request], Request] | None = None,
                 rewrite_xml: Callable[[etree._Element], None] | None = None):
        self.name, self.operation = name, operation
        self._request = rewrite_request or (lambda r: r)
        self._xml = rewrite_xml or (lambda d: None)

    def build(self, request: Request) -> str:
        if request.operation != self.operation:
            return ReferenceDriver().build(request)
        dom = etree.fromstring(ReferenceDriver().build(self._request(request)))
        self._xml(dom)
        return etree.tostring(dom, encoding="unicode")


__all__ = ["BrokenAfter"]
