"""Certifying a fleet: several libvirt hosts in one ``conformance certify`` run."""
