"""Deliberately broken drivers: the conformance checks must catch each one.

Python drivers (``broken_drivers.<module>:driver``, with ``tests/`` on sys.path) reuse the
reference and break exactly one rule; exec scripts (``exec:python tests/broken_drivers/x.py``)
misbehave at the protocol level.
"""
