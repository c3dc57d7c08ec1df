"""Deliberately broken drivers: the conformance checks must catch each one.

Python drivers (``broken_drivers.<module>:driver``, with ``tests/`` on sys.path) reuse the
reference and break exactly one rule; exec scripts (``exec:python tests/broken_drivers/x.py``,
also ``exec-stream:``, see ``_exec.py``) misbehave at the protocol level; ``stream_moody.py``
misbehaves in the stream protocol on the requests that ask for it.
"""
