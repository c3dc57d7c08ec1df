"""The driver contract: what a driver receives and what it may answer.

A driver turns a :class:`Request` (flavor + image + boot parameters + host
settings) into libvirt domain XML, or refuses it with a named :class:`Rejection`.
In Python a driver is any object with ``name`` and ``build(request) -> str`` that
raises :class:`Rejected` to refuse. The JSON form (protocol 1) is documented in
``docs/driver-protocol.md`` and ``conformance/schema/request-v1.json``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Protocol, Union

from conformance.errors import RequestInvalid

PROTOCOL = 1
VIRT_TYPES = ("kvm", "qemu")

REJECTION_CODES = frozenset({
    "InvalidWatchdogAction",
    "FlavorImageConflict",
    "FlavorImageLockedMemoryConflict",
    "LockMemoryForbidden",
    "RngDeviceNotExist",
    "InvalidExtraSpec",
    "InvalidImageProperty",
    "MemoryPageSizeForbidden",
    "MemoryPageSizeInvalid",
})


@dataclass(frozen=True)
class Flavor:
    name: str = "m1.conformance"
    vcpus: int = 1
    memory_mb: int = 256
    extra_specs: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Image:
    name: str = "conformance-guest"
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Boot:
    """Direct kernel boot parameters, supplied by the harness (not by the driver)."""
    kernel: str = "/var/lib/conformance/vmlinuz"
    initrd: str = "/var/lib/conformance/initrd.img"
    cmdline: str = "console=ttyS0 panic=-1"


@dataclass(frozen=True)
class HostSettings:
    rng_dev_path: str = "/dev/urandom"


@dataclass(frozen=True)
class Request:
    virt_type: str = "qemu"
    instance_name: str = "instance-00000001"
    instance_uuid: str = "00000000-0000-4000-8000-000000000001"
    flavor: Flavor = field(default_factory=Flavor)
    image: Image = field(default_factory=Image)
    boot: Boot = field(default_factory=Boot)
    host: HostSettings = field(default_factory=HostSettings)

    def to_dict(self) -> dict:
        return {"protocol": PROTOCOL, **asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "Request":
        """Build a request from its JSON form; raise RequestInvalid if it breaks the schema."""
        validate("request", data)
        return cls(
            virt_type=data["virt_type"],
            instance_name=data["instance_name"],
            instance_uuid=data["instance_uuid"],
            flavor=Flavor(**data["flavor"]),
            image=Image(**data["image"]),
            boot=Boot(**data["boot"]),
            host=HostSettings(**data["host"]),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "Request":
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: too deep
            raise RequestInvalid(f"request is not JSON: {exc}") from None
        return cls.from_dict(data)


@dataclass(frozen=True)
class Rejection:
    """A driver's named refusal of a request (e.g. InvalidWatchdogAction)."""
    code: str
    message: str

    def to_dict(self) -> dict:
        return {"error": self.code, "message": self.message}


class Rejected(Exception):
    """Raised by a Python driver to refuse a request with a named rejection."""

    def __init__(self, code: str, message: str):
        self.rejection = Rejection(code, message)
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Accepted:
    """A driver's domain XML for a request."""
    xml: str


Outcome = Union[Accepted, Rejection]


class Driver(Protocol):
    name: str

    def build(self, request: Request) -> str:
        """Return domain XML for ``request`` or raise :class:`Rejected`."""


def _schema(kind: str) -> dict:
    text = resources.files("conformance.schema").joinpath(f"{kind}-v1.json").read_text()
    return json.loads(text)


@functools.cache
def _validator(kind: str):
    """Schema ``kind``, checked and compiled once (jsonschema.validate re-checks it per call)."""
    import jsonschema

    schema = _schema(kind)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(kind: str, data) -> None:
    """Validate ``data`` against the protocol schema ``kind`` ("request", "rejection",
    "stream-hello", "stream-request" or "stream-reply")."""
    import jsonschema

    try:
        error = jsonschema.exceptions.best_match(_validator(kind).iter_errors(data))
        if error is not None:
            raise error
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise RequestInvalid(f"{kind} invalid at {where}: {exc.message}") from None
