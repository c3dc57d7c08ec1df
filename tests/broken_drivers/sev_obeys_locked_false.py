"""Broken: a memory-encrypted guest whose flavor or image says ``locked_memory=false`` is
left unlocked (the flavor obeyed), where Nova locks SEV guests regardless."""

from lxml import etree

from conformance.reference import ReferenceDriver
from conformance.reference.strutils import bool_from_string


def says_false(request) -> bool:
    values = [request.flavor.extra_specs.get("hw:locked_memory"),
              request.image.properties.get("hw_locked_memory")]
    return any(v is not None and not bool_from_string(v) for v in values)


class SevObeysLockedFalse:
    name = "broken-sev-obeys-locked-false"
    protocol = 2  # also judged after resize and rebuild

    def build(self, request) -> str:
        dom = etree.fromstring(ReferenceDriver().build(request))
        if says_false(request) and dom.find("launchSecurity") is not None:
            for locked in dom.xpath("memoryBacking/locked"):
                locked.getparent().remove(locked)
        return etree.tostring(dom, encoding="unicode")


driver = SevObeysLockedFalse()
