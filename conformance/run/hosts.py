"""The hosts of a certification: ``--host URI`` or ``--host NAME=URI`` (repeatable), each
with a unique label (a directory name under ``OUT/hosts/`` and the prefix of its test ids),
or the one host of ``--libvirt-uri`` (:func:`single`): a fleet of one.

A label is the given NAME, else derived from the URI: its hostname, or ``local`` for a URI
without one (``qemu:///system``, ``qemu:///session``); derived labels that collide get
``-2``, ``-3`` ... Duplicate URIs and duplicate or malformed names are usage errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.errors import HostSpecError

LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
NAMED = re.compile(r"^([^:/=]+)=(.+)$")  # NAME=URI; a URI's own "=" comes after ":" or "/"


@dataclass(frozen=True)
class Host:
    label: str
    uri: str

    @property
    def title(self) -> str:
        """How reports name the host: ``h2 (qemu+tcp://10.251.2.2/system)``."""
        return f"{self.label} ({self.uri})"


def derived_label(uri: str) -> str:
    """``local`` for a URI without a hostname, else the hostname made a safe label."""
    try:
        hostname = urlsplit(uri).hostname
    except ValueError:
        hostname = None
    if not hostname:
        return "local"
    label = re.sub(r"[^A-Za-z0-9_.-]", "_", hostname).lstrip("._-")[:63]
    return label or "host"


def single(uri: str) -> Host:
    """The one host of ``--libvirt-uri URI`` (or the configured URI), labelled as ``--host URI``."""
    return Host(derived_label(uri), uri)


def _key(uri: str) -> str:
    """A URI compared for duplicates: scheme and host case-insensitive, no trailing '/'."""
    parts = urlsplit(uri)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}" + (
        f"?{parts.query}" if parts.query else "")


def parse_hosts(specs: list[str]) -> list[Host]:
    """Hosts from ``--host`` values, in the given order, with unique labels."""
    named, seen = [], {}
    for spec in specs:
        spec = spec.strip()
        match = NAMED.match(spec)
        name, uri = (match.group(1), match.group(2)) if match else (None, spec)
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", uri):
            raise HostSpecError(f"--host {spec!r}: not a libvirt URI (e.g. qemu+ssh://host/system)")
        if name is not None and not LABEL.match(name):
            raise HostSpecError(f"--host {spec!r}: a host name is letters, digits, '_', '.', '-' "
                                f"(starting with a letter or digit), at most 63 characters")
        if _key(uri) in seen:
            raise HostSpecError(f"--host {uri} is given twice (also as {seen[_key(uri)]!r})")
        seen[_key(uri)] = spec
        named.append((name, uri))
    given = [name for name, _ in named if name]
    twice = sorted({name for name in given if given.count(name) > 1})
    if twice:
        raise HostSpecError(f"--host names given twice: {', '.join(twice)}")
    taken, hosts = set(given), []
    for name, uri in named:
        label = name
        if label is None:
            base = label = derived_label(uri)
            number = 2
            while label in taken:
                label, number = f"{base}-{number}", number + 1
        taken.add(label)
        hosts.append(Host(label, uri))
    return hosts
