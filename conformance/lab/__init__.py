"""The guest lab: boots judged domains on QEMU through libvirt (local or remote), safely,
and cleans up.

- ``connection``: libvirt connection (bounded for remote URIs) and the event loop thread.
- ``host``: the libvirt host's files and commands (local, over ssh, or none).
- ``storage``: files on a remote host as volumes of the harness pool (boot files, consoles).
- ``runs``: run identity, per-run directory, the ownership marker put on every domain.
- ``sandbox``: turns untrusted driver XML into a domain the harness is willing to boot.
- ``events``: libvirt domain events, dispatched per domain.
- ``guest``: a running guest (QMP, guest agent, console, events, waits).
- ``lab``: the factory that sandboxes, defines, starts and always destroys guests.
- ``cleanup``: removes leftovers of runs that died, selected by the ownership marker only.
- ``testinfra_backend``: a testinfra backend running commands through the guest agent.
"""
