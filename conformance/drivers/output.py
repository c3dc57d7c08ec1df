"""Safe parsing of a driver's domain XML (untrusted input)."""

from __future__ import annotations

from lxml import etree

from conformance.errors import DriverFault

MAX_OUTPUT_BYTES = 1024 * 1024


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                           load_dtd=False, dtd_validation=False, remove_blank_text=True)


def parse_domain(xml: str | bytes) -> etree._Element:
    """The ``<domain>`` root of ``xml``; DriverFault (not-xml, unsafe, not-domain, bad-output)."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > MAX_OUTPUT_BYTES:
        raise DriverFault("bad-output", f"XML is {len(data)} bytes, more than the "
                          f"{MAX_OUTPUT_BYTES} byte cap")
    try:
        tree = etree.ElementTree(etree.fromstring(data, _parser()))
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise DriverFault("not-xml", f"output is not XML ({exc}): {data[:120]!r}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise DriverFault("unsafe", "XML has a DOCTYPE / entity declarations; refused as unsafe")
    root = tree.getroot()
    if root.tag != "domain":
        raise DriverFault("not-domain", f"root element is <{root.tag}>, expected <domain>")
    return root
