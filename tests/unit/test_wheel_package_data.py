"""The wheel ships every file the guest image recipe reads (images/build.py RECIPE_FILES and
the kernel fragment): an installed package builds the same image as a checkout."""

import fnmatch
import importlib.util
import os
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_every_recipe_file_is_package_data():
    spec = importlib.util.spec_from_file_location("image_recipe", os.path.join(ROOT, "images", "build.py"))
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as handle:
        patterns = tomllib.load(handle)["tool"]["setuptools"]["package-data"]["conformance.images"]
    needed = [f for f in build.RECIPE_FILES if not f.endswith(".py")] + ["kernel/config.fragment"]
    missing = [f for f in needed if not any(fnmatch.fnmatch(f, p) for p in patterns)]
    assert missing == [], f"not in pyproject.toml's package-data of conformance.images: {missing}"
