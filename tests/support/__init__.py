"""Infrastructure of this repository's own test suite (namespace test hosts and their
fixture). Importable as ``support`` in the project's test session (tests/conftest.py puts
``tests/`` on the path); never part of the installed wheel."""
