"""How the harness moves a guest to the run's other host: cold migration, evacuation and
live migration, as Nova's compute hosts do them.

The destination is the source host's peer (:mod:`conformance.live.peers`). The driver's
answer for the destination is sandboxed with a *destination placement* before the guest is
touched: the same harness-owned libvirt name and instance uuid (a driver answering another
uuid or another domain's name is refused: sandbox rules ``uuid`` and ``name``), the boot
files and console as the destination host has them, the peer run's ownership marker. A
destination XML naming a host file is refused there too (``host-path``). The migration URI,
the listen address and the flags are the harness's own constants and addresses, never
taken from driver output.

After the move the :class:`~conformance.lab.guest.Guest` follows its domain to the
destination (:func:`moved_to`): its link, host and console (the source console's log
carried ahead of the destination's, so boot ids before and after the move are one history);
the destination lab owns it from then on (its teardown removes the domain). The source's
domain and QEMU log are removed; on failure the destination's half-made domain is removed
and the guest still names the source's, which the test destroys.
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import libvirt
from lxml import etree

from conformance.errors import DomainRefused, GuestError, HostsIncompatible, HostUnreachable
from conformance.lab import sandbox
from conformance.lab.console import LocalConsole, VolumeConsole
from conformance.lab.guest import MAX_CONSOLE
from conformance.lab.link import DomainLink, alive
from conformance.lab.teardown import remove_domain
from conformance.live import peers

STOP_TIMEOUT = 30
MIGRATE_TIMEOUT = 300  # seconds before a live migration that does not finish is aborted
# Nova's _parse_migration_flags: live, persist on the destination, undefine on the source.
# Not PEER2PEER: the harness drives the migration itself (it reaches both daemons; they
# need not reach each other). No TUNNELLED, POSTCOPY or storage copy: no disks here.
LIVE_FLAGS = (libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST
              | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE)
# libvirt errors that mean the destination refused the driver's XML (its failure)
REFUSED_CODES = {libvirt.VIR_ERR_XML_ERROR, libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
                 getattr(libvirt, "VIR_ERR_XML_DETAIL", -1), libvirt.VIR_ERR_INVALID_ARG}


class CarriedConsole:
    """A moved guest's console: the source's log as it was at the move, then the
    destination's (boot markers stay in order across hosts)."""

    def __init__(self, earlier: bytes, now):
        self.earlier, self.now, self.path = earlier, now, now.path

    def read(self, limit: int) -> bytes:
        return (self.earlier + self.now.read(limit))[:limit]

    def remove(self) -> None:
        self.now.remove()


@dataclasses.dataclass
class Destination:
    """Where a guest goes: the peer lab, the sandboxed XML and its placement and console."""
    lab: object
    placement: object
    xml: str
    console: object


def destination(lab, guest, placement, after_xml: str, operation: str) -> Destination:
    """The peer host and the driver's ``after_xml`` sandboxed for it (SandboxViolation
    before anything is touched; HostUnreachable naming the peer when it does not answer)."""
    noted = guest.history.defined(operation, after_xml)
    peer, image = peers.peer_lab(lab)
    name = f"{placement.name}.console.log"
    if peer.remote:
        path = peer.files.create_empty(name)
        console = VolumeConsole(peer.files, name, path)
    else:
        path = str(peer.run.path(name))
        console = LocalConsole(path)
        console.remove()
    there = dataclasses.replace(placement, console_path=path, owner=peer.run.owner,
                                kernel=image.kernel, initrd=image.initrd,
                                loader=image.loader if placement.loader else None)
    try:
        xml = noted["defined"] = peer.sandboxed(boot_files_moved(after_xml, placement, there), there)
    except BaseException:
        console.remove()
        raise
    return Destination(peer, there, xml, console)


def boot_files_moved(xml: str, source, there) -> str:
    """``xml`` with the harness's boot files on the source (``source`` placement) replaced by
    the same files on the destination (``there``), as Nova's migration rewrites host paths
    for the destination. Only exact matches are replaced; anything else stays for the
    sandbox to judge (rule ``boot-files``)."""
    root = sandbox.parse_untrusted(xml)
    for tag, old, new in (("kernel", source.kernel, there.kernel),
                          ("initrd", source.initrd, there.initrd)):
        for element in root.iterfind(f"os/{tag}"):
            if (element.text or "") == old:
                element.text = new
    return etree.tostring(root, encoding="unicode")


def moved_to(guest, source_lab, dest: Destination, domain) -> None:
    """``guest`` now is ``domain`` on the destination: link, host, console follow it; the
    destination lab owns it. The source's QEMU log is removed."""
    earlier = guest.console.read(MAX_CONSOLE)
    guest.console.remove()
    guest.link.forget()
    _, hub, _ = dest.lab.link()
    guest.link = DomainLink(domain, hub, dest.lab)
    guest.console = CarriedConsole(earlier, dest.console)
    guest.console_path = Path(dest.console.path)
    old_host, guest.host = guest.host, dest.lab.host
    guest.restarted()
    dest.lab.adopt(guest)
    remove_domain_log(source_lab, old_host, guest.name)


def remove_domain_log(source_lab, host, name: str) -> None:
    """The source's definition (if still there) and QEMU log of ``name``, best effort."""
    try:
        domain = source_lab.connected().lookupByName(name)
    except (libvirt.libvirtError, HostUnreachable):
        domain = None
    if domain is not None:
        remove_domain(domain, host)
        return
    from conformance.lab.teardown import qemu_log_path
    try:
        host.remove(qemu_log_path(name))
    except Exception:  # noqa: BLE001 - a host without a shell keeps the log
        pass


def _stop_source(guest, operation: str, what: str) -> None:
    try:
        guest.link.call(f"the {operation}'s {what}", lambda domain: domain.destroy())
    except libvirt.libvirtError as exc:
        raise GuestError(f"{guest.name}: {operation}: {what} failed: {exc.get_error_message()}") from None
    guest.wait_for_state("shutoff", STOP_TIMEOUT)


def _start_there(source_lab, guest, dest: Destination, operation: str) -> None:
    """Define ``dest.xml`` on the destination and start it (the driver's domain refused is
    DomainRefused; a destination gone, HostUnreachable naming it); then the guest is it."""
    domain = dest.lab.define(dest.xml)
    try:
        if domain.UUIDString() != guest.uuid:
            raise GuestError(f"{guest.name}: {operation}: the destination's domain has uuid "
                             f"{domain.UUIDString()}, not the instance's {guest.uuid}")
        try:
            domain.create()
        except libvirt.libvirtError as exc:
            if not alive(dest.lab.connected()):
                raise HostUnreachable(dest.lab.uri, f"the connection broke while the {operation} "
                                      f"started {guest.name}: {exc.get_error_message()}") from None
            raise GuestError(f"{guest.name}: {operation}: the domain did not start on "
                             f"{dest.lab.uri}: {exc.get_error_message()}") from None
    except BaseException:
        remove_domain(domain, dest.lab.host)
        dest.console.remove()
        raise
    moved_to(guest, source_lab, dest, domain)
    guest.note_booted()


def cold_migrate(lab, guest, placement, after_xml: str, operation: str) -> None:
    """Nova's ``migrate_disk_and_power_off`` on the source (power off), ``finish_migration``
    on the destination (the driver's domain for it, defined and started), then
    ``confirm_migration`` (``_cleanup_resize``: the source's domain undefined)."""
    dest = destination(lab, guest, placement, after_xml, operation)
    try:
        _stop_source(guest, operation, "power off")
    except BaseException:
        dest.console.remove()
        raise
    _start_there(lab, guest, dest, operation)


def evacuate(lab, guest, placement, after_xml: str, operation: str) -> None:
    """The source host is lost: its domain is destroyed as if the host died. Nova's
    ``rebuild_instance`` on the destination (``spawn`` of the driver's domain there), and
    the source's definition removed as ``_destroy_evacuated_instances`` does when the
    source host comes back."""
    dest = destination(lab, guest, placement, after_xml, operation)
    try:
        _stop_source(guest, operation, "loss of the source host")
    except BaseException:
        dest.console.remove()
        raise
    _start_there(lab, guest, dest, operation)


def live_migrate(lab, guest, placement, after_xml: str, operation: str) -> None:
    """Nova's ``live_migration`` -> ``_live_migration_operation`` -> ``guest.migrate``:
    the running domain migrated with ``VIR_MIGRATE_PARAM_DEST_XML`` the driver's answer
    (``migration.get_updated_guest_xml``) sandboxed for the destination, to the
    destination's own address (URI and listen address the harness's), flags
    :data:`LIVE_FLAGS`; bounded by :data:`MIGRATE_TIMEOUT` (then aborted)."""
    dest = destination(lab, guest, placement, after_xml, operation)
    try:
        _check_hypervisors(lab, dest.lab, operation)
    except HostsIncompatible:
        dest.console.remove()
        raise
    address = peers.url_host(peers.migration_address(lab.uri, dest.lab.uri))
    params = {libvirt.VIR_MIGRATE_PARAM_DEST_XML: dest.xml,
              libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{address}",
              libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: address.strip("[]")}
    conn = dest.lab.connected()
    try:
        domain = _migrate(guest, conn, params, dest.lab.uri, operation)
    except BaseException:
        dest.console.remove()
        _remove_half_made(dest.lab, guest.name)
        raise
    moved_to(guest, lab, dest, domain)
    guest.note_booted()


def _version(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


def _check_hypervisors(source_lab, dest_lab, operation: str) -> None:
    """A live migration to an older hypervisor is impossible (its machine types are older)
    and Nova's conductor refuses it before it starts (``LiveMigrationTask.
    _check_compatible_with_source_hypervisor``: ``DestinationHypervisorTooOld``): no verdict
    on the driver, :class:`HostsIncompatible`."""
    try:
        source, dest = source_lab.connected().getVersion(), dest_lab.connected().getVersion()
    except (AttributeError, libvirt.libvirtError):  # a lab that cannot tell: libvirt decides
        return
    if dest < source:
        raise HostsIncompatible(
            f"{operation} from {source_lab.uri} (QEMU {_version(source)}) to {dest_lab.uri} "
            f"(QEMU {_version(dest)}): the destination's hypervisor is older, which Nova "
            "refuses (DestinationHypervisorTooOld)")


def _migrate(guest, conn, params: dict, dest_uri: str, operation: str):
    source = guest.link.domain
    timer = threading.Timer(MIGRATE_TIMEOUT, _abort, args=(source,))
    timer.start()
    try:
        return guest.link.call(f"the {operation}", lambda d: d.migrate3(conn, params, LIVE_FLAGS))
    except libvirt.libvirtError as exc:
        message = exc.get_error_message() or str(exc)
        if not alive(conn):
            raise HostUnreachable(dest_uri, f"the connection broke during the {operation} of "
                                  f"{guest.name}: {message}") from None
        if not timer.is_alive():
            raise GuestError(f"{guest.name}: {operation} did not finish within "
                             f"{MIGRATE_TIMEOUT} s and was aborted: {message}") from None
        if exc.get_error_code() in REFUSED_CODES:
            raise DomainRefused(f"libvirt refused the driver's destination domain: {message}") from None
        raise GuestError(f"{guest.name}: {operation} to {dest_uri} failed: {message}") from None
    finally:
        timer.cancel()


def _abort(domain) -> None:
    try:
        domain.abortJob()
    except libvirt.libvirtError:
        pass


def _remove_half_made(dest_lab, name: str) -> None:
    """A domain a failed migration left on the destination (best effort)."""
    try:
        domain = dest_lab.connected().lookupByName(name)
    except (libvirt.libvirtError, HostUnreachable):
        return
    remove_domain(domain, dest_lab.host)


__all__ = ["cold_migrate", "evacuate", "live_migrate", "destination", "moved_to",
           "CarriedConsole", "LIVE_FLAGS"]
