"""Host side: bootstrap (packages, daemons, directories) and host capability facts.

Modules here must stay stdlib-only where they run before the venv exists
(``python3 -m conformance.host.bootstrap``).
"""
