"""A Finding: one way a driver's output differs from what the reference expects."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

from lxml import etree

EXCERPT_LIMIT = 800


@dataclass(frozen=True)
class Finding:
    check: str      # e.g. "watchdog.action"
    expected: str
    actual: str
    excerpt: str = ""  # the relevant part of the driver's XML

    def to_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        text = f"[{self.check}] expected {self.expected}; driver produced {self.actual}"
        return text + (f"\n    {self.excerpt}" if self.excerpt else "")


def excerpt(elements: Iterable[etree._Element] | etree._Element | None) -> str:
    """Serialised elements (without tails), cut at EXCERPT_LIMIT characters."""
    if elements is None:
        return ""
    if isinstance(elements, etree._Element):
        elements = [elements]
    text = " ".join(etree.tostring(el, encoding="unicode", with_tail=False).strip()
                    for el in elements)
    return text if len(text) <= EXCERPT_LIMIT else text[:EXCERPT_LIMIT] + "..."


def count_finding(check: str, what: str, found: list, want: int, context) -> list[Finding]:
    """A finding when ``found`` does not hold exactly ``want`` elements."""
    if len(found) == want:
        return []
    return [Finding(check, f"{want} {what}", f"{len(found)} {what}", excerpt(found or context))]
