"""Build-time layout (the rest of the metadata is in pyproject.toml).

The certification's test modules and the guest image recipe stay at the top of the
repository (``tests/conformance/``, ``images/``); the wheel carries them inside the
package as ``conformance.suite`` and ``conformance.images`` (found by
``conformance.locations``)."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["conformance", "conformance.*", "fixtures", "fixtures.*"])
    + ["conformance.suite", "conformance.images"],
    package_dir={"conformance.suite": "tests/conformance", "conformance.images": "images"},
)
