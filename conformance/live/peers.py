"""The second host of a two-host operation (cold and live migration, evacuation).

A certification names its hosts; every host's pytest child learns the run's host URIs from
:data:`RUN_HOSTS_ENV` (set by :class:`conformance.run.certify.Run`, in order) and performs
two-host operations from its own host towards its *peer*, the next host of the run (the
last one's peer is the first). A run with one host has no peer: those cases are n/a
(:func:`blocker`), and the headline says why.

The peer's lab (:func:`peer_lab`) is opened on first use and closed with the session's lab
(:func:`close_peers`): its guests, volumes (the guest's boot files, uploaded there as on any
remote host) and run directory go with it. A peer that does not answer is HostUnreachable
naming it: the host's error, never the driver's.

The migration address is the harness's, never the driver's (:func:`migration_address`):
the destination's own network address as the source reaches it.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from urllib.parse import urlsplit

from conformance.errors import HarnessError, HostUnreachable

RUN_HOSTS_ENV = "CFM_RUN_HOSTS"  # JSON list of the run's libvirt URIs, in --host order
_PEERS: dict[int, tuple] = {}  # id(source lab) -> (peer Lab, its GuestImage)
_LOCK = threading.Lock()


def run_hosts() -> list[str]:
    """The run's libvirt URIs (one or none: a single-host run)."""
    try:
        hosts = json.loads(os.environ.get(RUN_HOSTS_ENV) or "[]")
    except ValueError:
        return []
    return [h for h in hosts if isinstance(h, str)] if isinstance(hosts, list) else []


def needs_hosts(operation: str, hosts: int) -> str:
    """Why a case of ``operation`` (which needs ``hosts`` hosts) has no live check here."""
    return f"{operation} needs {'two' if hosts == 2 else hosts} hosts; this run had one"


def blocker(operation: str, hosts: int) -> str | None:
    """Why a ``hosts``-host ``operation`` cannot run live in this run, or None."""
    if hosts <= 1 or len(run_hosts()) >= hosts:
        return None
    return needs_hosts(operation, hosts)


def peer_uri(own: str, hosts: list[str] | None = None) -> str | None:
    """The host a two-host operation from ``own`` goes to: the run's next host (wrapping)."""
    hosts = run_hosts() if hosts is None else hosts
    others = [h for h in hosts if h != own]
    if not others:
        return None
    if own not in hosts:
        return others[0]
    index = hosts.index(own)
    return next(h for h in hosts[index + 1:] + hosts[:index] if h != own)


def _hostname(uri: str) -> str | None:
    try:
        return urlsplit(uri).hostname
    except ValueError:
        return None


def migration_address(source_uri: str, dest_uri: str) -> str:
    """The destination's network address as the source reaches it: a remote destination's
    URI hostname, resolved; a local one's (this machine's) address on its route towards the
    source host. HarnessError when the two hosts have no network path between them."""
    dest = _hostname(dest_uri)
    if dest:
        try:
            return socket.getaddrinfo(dest, None, type=socket.SOCK_STREAM)[0][4][0]
        except OSError as exc:
            raise HostUnreachable(dest_uri, f"cannot resolve {dest}: {exc}") from None
    source = _hostname(source_uri)
    if not source:
        raise HarnessError(f"{source_uri} and {dest_uri} are both this machine: a migration "
                           "needs two hosts")
    try:
        family = socket.getaddrinfo(source, None)[0]
        with socket.socket(family[0], socket.SOCK_DGRAM) as probe:
            probe.connect((family[4][0], 9))  # no packet is sent: only the route is chosen
            return probe.getsockname()[0]
    except OSError as exc:
        raise HostUnreachable(source_uri, f"no route from this machine to {source}: {exc}") from None


def url_host(address: str) -> str:
    """``address`` as the host part of a URI (IPv6 in brackets)."""
    return f"[{address}]" if ":" in address else address


def peer_lab(lab):
    """(the peer host's Lab, the guest image as that host sees it) for ``lab``'s host,
    opened on first use; HostUnreachable naming the peer when it does not answer."""
    with _LOCK:
        if id(lab) in _PEERS:
            return _PEERS[id(lab)]
        uri = peer_uri(lab.uri)
        if uri is None:
            raise HarnessError(needs_hosts("a migration", 2))
        from conformance.lab.image import load_image
        from conformance.lab.lab import Lab
        peer = Lab(uri, virt_type=lab.virt_type)
        try:
            image = peer.host_image(load_image())
        except BaseException:
            peer.close()
            raise
        _PEERS[id(lab)] = (peer, image)
        return peer, image


def close_peers(lab) -> None:
    """Close the peer lab opened for ``lab`` (its guests, volumes, run directory), if any."""
    with _LOCK:
        found = _PEERS.pop(id(lab), None)
    if found is not None:
        found[0].close()


__all__ = ["RUN_HOSTS_ENV", "run_hosts", "needs_hosts", "blocker", "peer_uri",
           "migration_address", "url_host", "peer_lab", "close_peers"]
