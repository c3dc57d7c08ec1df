"""The guest lab: boots judged domains on local QEMU through libvirt, safely, and cleans up.

- ``connection``: libvirt connection and the event loop thread.
- ``runs``: run identity, per-run directory, the ownership marker put on every domain.
- ``sandbox``: turns untrusted driver XML into a domain the harness is willing to boot.
- ``events``: libvirt domain events, dispatched per domain.
- ``guest``: a running guest (QMP, guest agent, console, events, waits).
- ``lab``: the factory that sandboxes, defines, starts and always destroys guests.
- ``cleanup``: removes leftovers of runs that died, selected by the ownership marker only.
- ``testinfra_backend``: a testinfra backend running commands through the guest agent.
"""
