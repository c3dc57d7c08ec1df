"""Infrastructure of this repository's own test suite (namespace test hosts and their
fixture, the Debian 13 test host). Importable as ``support`` in the project's test session (tests/conftest.py puts
``tests/`` on the path); never part of the installed wheel."""
