"""Fixtures of the nova driver tests: one Nova worker per session, skipped without nova.

The worker's interpreter comes from ``worker_python()`` ($CONFORMANCE_NOVA_PYTHON, else the
.venv-nova that ``./run tests`` provisions, else this one); each must import upstream Nova.
Without any, the tests skip naming what was tried and the command that installs Nova.
"""

import pytest

from conformance.drivers.nova import NovaDriver, worker_python


@pytest.fixture(scope="session")
def nova_python() -> str:
    try:
        return worker_python()
    except ImportError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def nova(nova_python):
    """Nova with API validation of extra specs (API microversion >= 2.86)."""
    with NovaDriver(nova_python) as driver:
        yield driver


@pytest.fixture(scope="session")
def nova_lenient(nova_python):
    """Nova without extra-spec API validation (flavors stored before microversion 2.86)."""
    with NovaDriver(nova_python, api_validation=False) as driver:
        yield driver
