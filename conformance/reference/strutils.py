"""Ports of the oslo.utils ``strutils`` helpers Nova uses (same semantics).

Source: openstack/oslo.utils ``oslo_utils/strutils.py`` (``bool_from_string``,
``string_to_bytes``).
"""

from __future__ import annotations

import math
import re

TRUE_STRINGS = ("1", "t", "true", "on", "y", "yes")
FALSE_STRINGS = ("0", "f", "false", "off", "n", "no")


def bool_from_string(subject, strict: bool = False, default=False):
    """True/False for a boolean-like value; unknown -> ``default`` (or ValueError if strict)."""
    if isinstance(subject, bool):
        return subject
    if not isinstance(subject, str):
        subject = str(subject)
    lowered = subject.strip().lower()
    if lowered in TRUE_STRINGS:
        return True
    if lowered in FALSE_STRINGS:
        return False
    if strict:
        acceptable = ", ".join(f"'{s}'" for s in sorted(TRUE_STRINGS + FALSE_STRINGS))
        raise ValueError(f"Unrecognized value '{subject}', acceptable values are: {acceptable}")
    return default


# oslo_utils.strutils.UNIT_SYSTEM_INFO['IEC'] (note: the unit suffix b/bit/B is required).
_IEC_SIZE = re.compile(r"(^[-+]?\d*\.?\d+)([KMGTPEZYRQ]i?)?(b|bit|B)$")
_EXPONENT = {"K": 1, "Ki": 1, "M": 2, "Mi": 2, "G": 3, "Gi": 3, "T": 4, "Ti": 4,
             "P": 5, "Pi": 5, "E": 6, "Ei": 6, "Z": 7, "Zi": 7, "Y": 8, "Yi": 8,
             "R": 9, "Ri": 9, "Q": 10, "Qi": 10}


def string_to_bytes(text: str) -> int:
    """``strutils.string_to_bytes(text, 'IEC', return_int=True)``; ValueError if malformed."""
    match = _IEC_SIZE.match(text)
    if not match:
        raise ValueError(f"Invalid string format: {text}")
    magnitude = float(match.group(1))
    if match.group(3) in ("b", "bit"):
        magnitude /= 8
    prefix = match.group(2)
    res = magnitude * 1024 ** _EXPONENT[prefix] if prefix else magnitude
    return int(math.ceil(res))
