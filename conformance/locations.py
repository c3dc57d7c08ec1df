"""Where the certification's own files are: its test modules and the guest image recipe.

A checkout keeps them at the top of the repository, where a newcomer looks
(``tests/conformance/``, ``images/``); the wheel carries the same files as
``conformance/suite/`` and ``conformance/images/`` (``setup.py`` maps them at build time).
The installed copy wins when present. Stdlib only: ``conformance.host.setup`` runs before
the virtualenv exists.
"""

from __future__ import annotations

from pathlib import Path

from conformance.errors import HarnessError

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent
SUITE_MARKER = "test_xml_catalogue.py"
RECIPE_MARKER = "build.py"


class InstallationIncomplete(HarnessError):
    """A file the certification needs is neither installed nor in a checkout."""
    exit_code = 5


def _first(candidates: list[Path], marker: str, what: str) -> Path:
    for candidate in candidates:
        if (candidate / marker).is_file():
            return candidate
    tried = " nor ".join(str(c / marker) for c in candidates)
    raise InstallationIncomplete(f"the {what} is missing: neither {tried} exists "
                                 f"(reinstall hv-conformance, or run from its checkout)")


def suite_dir() -> Path:
    """The directory of the certification's test modules (``test_*.py``)."""
    return _first([PACKAGE / "suite", CHECKOUT / "tests" / "conformance"], SUITE_MARKER,
                  "certification suite")


def images_dir() -> Path:
    """The guest image recipe's directory (``build.py``, ``init``, kernel config, guest tools)."""
    return _first([PACKAGE / "images", CHECKOUT / "images"], RECIPE_MARKER, "guest image recipe")
