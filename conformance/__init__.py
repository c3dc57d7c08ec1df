"""Conformance harness for hypervisor drivers (flavor + image -> libvirt domain).

The core (contract, reference drivers, checks, lab) imports neither pytest nor
configuration; ``fixtures`` and ``conformance.cli`` are thin layers over it.
"""
