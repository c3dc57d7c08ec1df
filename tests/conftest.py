"""The project's own test session: fixtures that a user's session (the installed plugin,
``fixtures.plugin``) must not carry. pytest puts ``tests/`` on ``sys.path`` for this file
(rootdir-relative, ``tests/`` is no package), so ``support`` is importable from here on.

A certification's pytest child never loads this file: it runs the suite with
``--confcutdir`` at the suite itself (``conformance.run.child``), and the installed suite
(``conformance/suite/``) has no parent conftest.
"""

from support.namespace_hosts import namespace_hosts  # noqa: F401 - registered by import
