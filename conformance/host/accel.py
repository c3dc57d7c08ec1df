"""Accelerator choice: KVM only when a bounded probe boot proves it works, else TCG.

``/dev/kvm`` existing is not proof: on nested hosts using a paravirtual scheme it exists
and guests hang. The probe boots the guest image with ``<domain type='kvm'>`` and waits a
few seconds for the boot marker (a working KVM boots it in about a second). The result
is cached per libvirt host (URI, its boot, kernel and QEMU) and image (the newest 8
keys), in ``/var/lib/conformance/accel.json``. On a remote host the probe boots there,
and whether KVM is offered at all is asked of that host's libvirt (domain capabilities).
"""

from __future__ import annotations

import json
import os
import platform
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conformance.errors import HarnessError, WaitTimeout
from conformance.lab.runs import STATE_DIR

PROBE_TIMEOUT = 15.0
CACHE_FILE = STATE_DIR / "accel.json"
CHOICES = ("auto", "kvm", "qemu")


@dataclass(frozen=True)
class Accelerator:
    virt_type: str      # "kvm" or "qemu" (TCG)
    reason: str
    cached: bool = False

    @property
    def label(self) -> str:
        return "KVM" if self.virt_type == "kvm" else "TCG"

    def to_dict(self) -> dict:
        return asdict(self)


def _host_key(image) -> str:
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    qemu = Path("/usr/bin/qemu-system-x86_64")
    qemu_id = f"{qemu.stat().st_mtime_ns}" if qemu.exists() else "no-qemu"
    return f"{boot_id}|{platform.release()}|{qemu_id}|{image.digest}"


def _remote_key(lab, image) -> str:
    """The remote host as its libvirt (and, given a shell, its kernel) describes it."""
    conn = lab.connected()
    try:
        boot_id = lab.host.read_bytes("/proc/sys/kernel/random/boot_id", 64).decode().strip()
    except (OSError, HarnessError):
        boot_id = "no-shell"
    where = urlsplit(lab.uri)._replace(query="", fragment="").geturl()  # not keyfile=...
    return (f"{where}|{conn.getHostname()}|{boot_id}|{conn.getLibVersion()}|"
            f"{conn.getVersion()}|{image.digest}")


def _remote_kvm_missing(lab) -> str | None:
    """Why the remote host offers no KVM (its libvirt's domain capabilities), or None."""
    import libvirt
    try:
        lab.connected().getDomainCapabilities(None, "x86_64", None, "kvm", 0)
    except libvirt.libvirtError as exc:
        return f"libvirt on {lab.uri} offers no KVM: {exc.get_error_message()}"
    return None


def choose(lab, image, requested: str = "auto") -> Accelerator:
    """Decide the accelerator (``requested``: auto, kvm or qemu; env CONFORMANCE_ACCEL)."""
    requested = os.environ.get("CONFORMANCE_ACCEL", requested) or "auto"
    if requested == "qemu":
        return Accelerator("qemu", "TCG requested (--accel qemu)")
    if requested == "kvm":
        return Accelerator("kvm", "KVM requested (--accel kvm); not probed")
    if requested != "auto":
        raise HarnessError(f"unknown accelerator {requested!r}: choose one of {', '.join(CHOICES)}")
    if getattr(lab, "remote", False):
        missing = _remote_kvm_missing(lab)
        if missing:
            return Accelerator("qemu", missing)
        key = _remote_key(lab, image)
    else:
        if not os.path.exists("/dev/kvm"):
            return Accelerator("qemu", "/dev/kvm is absent")
        if not os.access("/dev/kvm", os.R_OK | os.W_OK):
            return Accelerator("qemu", "/dev/kvm is not accessible (read/write)")
        key = _host_key(image)
    cached = _read_cache(key)
    if cached is not None:
        return cached
    result = probe(lab, image)
    _write_cache(key, result)
    return result


def probe(lab, image, timeout: float = PROBE_TIMEOUT) -> Accelerator:
    """Boot the image under KVM; KVM if its boot marker appears within ``timeout``."""
    from conformance.contract import Request
    from conformance.reference import ReferenceDriver

    image = lab.host_image(image) if hasattr(lab, "host_image") else image  # files on the host
    name = f"probe-{uuid.uuid4().hex[:8]}"
    request = Request(virt_type="kvm", instance_name=name, instance_uuid=str(uuid.uuid4()),
                      boot=image.boot)
    placement = lab.placement(image.boot, slug="kvm-probe", instance_name=name,
                              virt_type="kvm", loader=image.loader)
    started = time.monotonic()
    try:
        guest = lab.start(ReferenceDriver().build(request), placement)
    except HarnessError as exc:
        return Accelerator("qemu", f"KVM probe guest did not start: {exc}")
    try:
        guest.wait_for_boot(timeout)
        took = time.monotonic() - started
        return Accelerator("kvm", f"KVM probe boot printed its boot marker in {took:.1f} s")
    except WaitTimeout:
        return Accelerator("qemu", f"KVM probe boot printed no boot marker within {timeout:g} s "
                                   "(/dev/kvm exists but KVM guests hang on this host)")
    except HarnessError as exc:
        return Accelerator("qemu", f"KVM probe boot failed: {str(exc).splitlines()[0]}")
    finally:
        guest.destroy()


CACHE_ENTRIES = 8  # probe results kept (several images in use at once evict none)


def _cache_entries() -> dict:
    try:
        data = json.loads(CACHE_FILE.read_text())
    except (OSError, ValueError):
        return {}
    entries = data.get("entries") if isinstance(data, dict) else None
    return entries if isinstance(entries, dict) else {}


def cached_local_choice() -> str | None:
    """The newest cached probe result (virt type) for this machine's current boot, or None."""
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    local = [e for k, e in _cache_entries().items() if k.startswith(f"{boot_id}|") and isinstance(e, dict)]
    newest = max(local, key=lambda e: e.get("at", 0), default=None)
    return newest.get("virt_type") if newest else None


def _read_cache(key: str) -> Accelerator | None:
    data = _cache_entries().get(key)
    if not isinstance(data, dict):
        return None
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(data.get("at", 0)))
    return Accelerator(data["virt_type"], f"{data['reason']} (probe cached {when} UTC)", True)


def _write_cache(key: str, result: Accelerator) -> None:
    """Add ``key``'s result, keeping the newest CACHE_ENTRIES (written atomically)."""
    entries = _cache_entries()
    entries[key] = {"virt_type": result.virt_type, "reason": result.reason, "at": time.time()}
    newest = dict(sorted(entries.items(), key=lambda kv: kv[1].get("at", 0))[-CACHE_ENTRIES:])
    try:
        CACHE_FILE.parent.mkdir(parents=True, exist_ok=True)
        temp = CACHE_FILE.with_name(f".{CACHE_FILE.name}.{os.getpid()}")
        temp.write_text(json.dumps({"entries": newest}))
        os.replace(temp, CACHE_FILE)
    except OSError:
        pass
