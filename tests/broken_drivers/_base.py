"""A reference driver with one deliberate change to the request or to the produced XML."""

from __future__ import annotations

import dataclasses
from typing import Callable

from lxml import etree

from conformance.contract import Request
from conformance.reference import ReferenceDriver


def with_specs(request: Request, extra_specs: dict | None = None, properties: dict | None = None) -> Request:
    """``request`` with replaced flavor extra specs and/or image properties."""
    flavor = dataclasses.replace(request.flavor, extra_specs=extra_specs) if extra_specs is not None \
        else request.flavor
    image = dataclasses.replace(request.image, properties=properties) if properties is not None \
        else request.image
    return dataclasses.replace(request, flavor=flavor, image=image)


class Broken:
    """Reference behaviour, except ``rewrite_request`` / ``rewrite_xml``."""

    def __init__(self, name: str, rewrite_request: Callable[[Request], Request] | None = None,
                 rewrite_xml: Callable[[etree._Element], None] | None = None):
        self.name = name
        self._request = rewrite_request or (lambda r: r)
        self._xml = rewrite_xml or (lambda d: None)

    def build(self, request: Request) -> str:
        xml = ReferenceDriver().build(self._request(request))
        dom = etree.fromstring(xml)
        self._xml(dom)
        return etree.tostring(dom, encoding="unicode")


__all__ = ["Broken", "with_specs"]
