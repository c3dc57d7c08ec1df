"""The driver contract: what a driver receives and what it may answer.

A driver turns a :class:`Request` (flavor + image + boot parameters + host
settings, and since protocol 2 the lifecycle ``operation`` with the instance's
current flavor/image; since protocol 3 the rest of the lifecycle, a migration with the
source host and the domain running there) into libvirt domain XML, or refuses it with a named
:class:`Rejection`. In Python a driver is any object with ``name`` and
``build(request) -> str`` that raises :class:`Rejected` to refuse; it declares the
protocol it speaks with a ``protocol`` attribute (absent: 1, create only). The JSON
form is documented in ``docs/driver-protocol.md`` and ``conformance/schema/``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Protocol, Union

from conformance.errors import RequestInvalid

PROTOCOL = 3  # the newest protocol; a create request is still written in protocol 1 form
PROTOCOLS = (1, 2, 3)
VIRT_TYPES = ("kvm", "qemu")
# protocol 2: hard reboot, stop + start, resize (new flavor), rebuild (new image)
PROTOCOL_2_OPERATIONS = ("reboot", "stop_start", "resize", "rebuild")
# protocol 3: the rest of Nova's lifecycle (docs/driver-protocol.md, "Protocol 3")
PROTOCOL_3_OPERATIONS = ("live_migrate", "cold_migrate", "suspend_resume", "pause_unpause",
                         "shelve_unshelve", "evacuate", "soft_reboot", "clean_stop_start")
MIGRATIONS = ("live_migrate", "cold_migrate")  # the requests with source_host + source_domain
OPERATIONS = ("create",) + PROTOCOL_2_OPERATIONS + PROTOCOL_3_OPERATIONS
SOURCE_DOMAIN_MAX = 262144  # characters of source_domain (request-v3.json)

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
    "ImageNUMATopologyRebuildConflict",
    # realtime, CPU pinning, memory encryption, scheduling (docs/reference-semantics.md)
    "RealtimeConfigurationInvalid",
    "RealtimeMaskNotFoundOrInvalid",
    "RequiredMixedOrRealtimeCPUMask",
    "ImageCPUPinningForbidden",
    "InvalidMachineType",
    "StatelessFirmwareRequired",
    "NoValidHost",
})
# Memory encryption models a host may offer (Nova's MemEncryptionModel, AMD ones).
MEM_ENCRYPTION_MODELS = ("amd-sev", "amd-sev-es", "amd-sev-snp")


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
    """What the compute host is configured with and offers (Nova config, host capabilities).

    ``hw_machine_type``: ``[libvirt] hw_machine_type`` for x86_64 ("" = unset: Nova's
    default ``pc``); ``cpu_dedicated_set``: ``[compute] cpu_dedicated_set`` ("" = none: no
    host CPU for pinned instances; set, all host CPUs are dedicated and unpinned instances
    find no room); ``mem_encryption_models``: the memory encryption the host reports (its
    ``HW_CPU_X86_AMD_SEV*`` traits; empty: none). A request omits a field at its default.
    """
    rng_dev_path: str = "/dev/urandom"
    hw_machine_type: str = ""
    cpu_dedicated_set: str = ""
    mem_encryption_models: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "mem_encryption_models", tuple(self.mem_encryption_models))

    def to_dict(self) -> dict:
        """The JSON form: ``rng_dev_path`` always, the other fields when not the default."""
        data = {"rng_dev_path": self.rng_dev_path}
        for name, default in (("hw_machine_type", ""), ("cpu_dedicated_set", ""),
                              ("mem_encryption_models", ())):
            value = getattr(self, name)
            if value != default:
                data[name] = list(value) if isinstance(value, tuple) else value
        return data


@dataclass(frozen=True)
class Request:
    virt_type: str = "qemu"
    instance_name: str = "instance-00000001"
    instance_uuid: str = "00000000-0000-4000-8000-000000000001"
    flavor: Flavor = field(default_factory=Flavor)
    image: Image = field(default_factory=Image)
    boot: Boot = field(default_factory=Boot)
    host: HostSettings = field(default_factory=HostSettings)
    # Protocol 2. ``flavor``/``image`` are always what the domain must express (for
    # resize the new flavor, for rebuild the new image); ``old_flavor`` (resize only)
    # and ``old_image`` (rebuild only) are what the instance had before.
    operation: str = "create"
    old_flavor: Flavor | None = None
    old_image: Image | None = None
    # Protocol 3, migrations only: ``host`` is the destination's settings, ``source_host``
    # the host the instance runs on, ``source_domain`` the domain XML running there (written
    # by the harness, never by the driver).
    source_host: HostSettings | None = None
    source_domain: str | None = None

    def __post_init__(self):
        """The operation and the old flavor/image go together (as request-v2.json says)."""
        op = self.operation
        if op not in OPERATIONS:
            raise RequestInvalid(f"unknown operation {op!r} (known: {', '.join(OPERATIONS)})")
        if (self.old_flavor is not None) != (op == "resize"):
            raise RequestInvalid(f"operation {op}: old_flavor is "
                                 + ("required" if op == "resize" else "only for resize"))
        if (self.old_image is not None) != (op == "rebuild"):
            raise RequestInvalid(f"operation {op}: old_image is "
                                 + ("required" if op == "rebuild" else "only for rebuild"))
        if op == "resize" and self.old_flavor.name == self.flavor.name:
            raise RequestInvalid("operation resize: the new flavor must be another flavor "
                                 "(Nova: CannotResizeToSameFlavor)")
        migration = op in MIGRATIONS
        for name in ("source_host", "source_domain"):
            if (getattr(self, name) is not None) != migration:
                raise RequestInvalid(f"operation {op}: {name} is "
                                     + ("required" if migration else "only for a migration"))
        if migration and not 0 < len(self.source_domain) <= SOURCE_DOMAIN_MAX:
            raise RequestInvalid(f"operation {op}: source_domain must have 1 to "
                                 f"{SOURCE_DOMAIN_MAX} characters")

    @property
    def protocol(self) -> int:
        """1 for a plain create (written exactly as protocol 1), 3 for the operations of
        protocol 3, else 2."""
        if self.operation in PROTOCOL_3_OPERATIONS:
            return 3
        plain = self.operation == "create" and self.old_flavor is None and self.old_image is None
        return 1 if plain else 2

    def to_dict(self) -> dict:
        data = {"protocol": self.protocol, **asdict(self), "host": self.host.to_dict()}
        if self.source_host is not None:
            data["source_host"] = self.source_host.to_dict()
        if self.protocol == 1:
            del data["operation"]
        for key in ("old_flavor", "old_image", "source_host", "source_domain"):
            if data[key] is None:
                del data[key]
        return data

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
            operation=data.get("operation", "create"),
            old_flavor=Flavor(**data["old_flavor"]) if "old_flavor" in data else None,
            old_image=Image(**data["old_image"]) if "old_image" in data else None,
            source_host=HostSettings(**data["source_host"]) if "source_host" in data else None,
            source_domain=data.get("source_domain"),
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
    protocol: int  # optional attribute; absent means 1 (see driver_protocol)

    def build(self, request: Request) -> str:
        """Return domain XML for ``request`` or raise :class:`Rejected`."""


def driver_protocol(driver) -> int:
    """The protocol ``driver`` declares (its ``protocol`` attribute; 1 when absent).

    A driver never receives a request of a newer protocol than it speaks: a protocol-1
    driver is certified on ``create`` only, a protocol-2 driver on create and the operations
    of protocol 2 (``PROTOCOL_2_OPERATIONS``).
    """
    value = getattr(driver, "protocol", 1)
    return value if value in PROTOCOLS else 1


def scope_of(protocol: int) -> str | None:
    """What a certification of a driver speaking ``protocol`` is limited to (None: nothing;
    the headline says it)."""
    if protocol < 2:
        return "create only: the driver speaks protocol 1 (no lifecycle requests)"
    if protocol < PROTOCOL:
        return (f"certified on create and {', '.join(PROTOCOL_2_OPERATIONS)}: the driver speaks "
                f"protocol 2 (not certified: {', '.join(PROTOCOL_3_OPERATIONS)})")
    return None


def _schema(kind: str, version: int = 1) -> dict:
    text = resources.files("conformance.schema").joinpath(f"{kind}-v{version}.json").read_text()
    return json.loads(text)


@functools.cache
def _validator(kind: str, version: int = 1):
    """Schema ``kind`` (``version``), checked and compiled once (jsonschema.validate re-checks
    the schema on every call: ~5 ms)."""
    import jsonschema

    schema = _schema(kind, version)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(kind: str, data) -> None:
    """Validate ``data`` against the protocol schema ``kind`` ("request", "rejection",
    "stream-hello", "stream-request" or "stream-reply").

    A request is checked against the schema of the protocol it names (request-v2.json
    for ``"protocol": 2``, request-v3.json for 3, request-v1.json otherwise).
    """
    import jsonschema

    named = data.get("protocol") if kind == "request" and isinstance(data, dict) else None
    version = named if named in (2, 3) and not isinstance(named, bool) else 1
    try:
        error = jsonschema.exceptions.best_match(_validator(kind, version).iter_errors(data))
        if error is not None:
            raise error
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise RequestInvalid(f"{kind} invalid at {where}: {exc.message}") from None
