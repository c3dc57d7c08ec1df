"""Pruning the image cache (images/prune.py, build.py --prune, conformance cleanup --images).

Temp cache dirs with fake image and kernel dirs; no image is built.
"""
import json
import os

import pytest

from conformance.cli import main as cli_main
from test_image_recipe import IMAGES, load_build


@pytest.fixture(scope="module")
def build():
    return load_build(IMAGES, "image_build_prune_test")


def key(n: int) -> str:
    return f"{n:064x}"


def make_dir(parent, name, age, manifest=None):
    """A finished cache dir whose manifest is ``age`` seconds old."""
    path = os.path.join(parent, name)
    os.makedirs(path)
    with open(os.path.join(path, "manifest.json"), "w") as f:
        json.dump(manifest or {}, f)
    with open(os.path.join(path, "vmlinuz"), "wb") as f:
        f.write(b"x" * 1024)
    stamp = 1_700_000_000 - age
    os.utime(os.path.join(path, "manifest.json"), (stamp, stamp))
    return path


def fill(cache, images=5, kernels=5):
    """Images 1..N (1 newest), image i built on kernel i; kernel dirs 1..K."""
    for i in range(1, kernels + 1):
        make_dir(os.path.join(cache, "kernels"), key(i), age=i * 100)
    for i in range(1, images + 1):
        make_dir(cache, key(i), age=i * 100, manifest={"kernel_key": key(i)})


def names(path):
    return sorted(n for n in os.listdir(path) if len(n) == 64)


def test_keeps_what_was_used_recently(build, tmp_path):
    """Dirs used within recent_s stay beyond the newest ``keep`` (a concurrent checkout may
    be booting them); older ones go."""
    cache = str(tmp_path)
    fill(cache)
    removed = build.cache_prune.prune(cache, keep=1, recent_s=350, now=1_700_000_000)
    assert names(cache) == [key(1), key(2), key(3)]
    assert sorted(removed) == sorted([os.path.join(cache, key(4)), os.path.join(cache, key(5)),
                                      os.path.join(cache, "kernels", key(4)),
                                      os.path.join(cache, "kernels", key(5))])


def test_keeps_the_newest_and_what_is_in_use(build, tmp_path):
    """keep=2: images 1, 2 and the in-use 5 stay; kernels of kept images and the current one stay."""
    cache = str(tmp_path)
    fill(cache)
    os.makedirs(os.path.join(cache, "kernels", ".tmp-build"))  # a build's temp dir: not ours
    removed = build.cache_prune.prune(cache, keep=2, in_use=[key(5)], kernels_in_use=[key(4)])
    assert names(cache) == [key(1), key(2), key(5)]
    assert names(os.path.join(cache, "kernels")) == [key(1), key(2), key(4), key(5)]
    assert sorted(removed) == sorted([os.path.join(cache, key(3)), os.path.join(cache, key(4)),
                                      os.path.join(cache, "kernels", key(3))])
    assert os.path.isdir(os.path.join(cache, "kernels", ".tmp-build"))


def test_nothing_to_prune(build, tmp_path):
    fill(str(tmp_path), images=3, kernels=3)
    assert build.cache_prune.prune(str(tmp_path), keep=3) == []
    assert build.cache_prune.prune(str(tmp_path / "absent"), keep=3) == []


def test_dirs_without_manifest_or_key_names_are_left_alone(build, tmp_path):
    """Half-published or foreign dirs are never counted nor removed."""
    fill(str(tmp_path), images=2, kernels=0)
    os.makedirs(tmp_path / key(9))  # no manifest: not finished
    os.makedirs(tmp_path / "notes")
    build.cache_prune.prune(str(tmp_path), keep=0)
    assert sorted(os.listdir(tmp_path)) == [key(9), "notes"]


def test_build_prunes_after_publishing(build, tmp_path, monkeypatch):
    """A real (stock) build prunes old dirs down to --keep, keeping the image it built."""
    try:
        build.collect_inputs("stock")
    except build.ImageBuildError as e:
        pytest.skip(f"host lacks the image packages: {e}")
    fill(str(tmp_path), images=4, kernels=0)
    res = build.build_image(cache_dir=str(tmp_path), kernel="stock", keep=2)
    current = os.path.basename(os.path.dirname(res["manifest"]))
    assert current in names(tmp_path) and len(names(tmp_path)) == 2


def test_cleanup_images_prints_what_it_removed(tmp_path, capsys):
    """`conformance cleanup --images` prunes through the recipe and prints each removed path."""
    fill(str(tmp_path), images=4, kernels=1)
    assert cli_main(["cleanup", "--images", "--keep", "2", "--cache-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == [f"removed {tmp_path / key(3)}", f"removed {tmp_path / key(4)}"]
    assert names(tmp_path) == [key(1), key(2)]
    assert cli_main(["cleanup", "--images", "--keep", "2", "--cache-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("nothing to prune")


def test_cleanup_images_rejects_a_negative_keep(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["cleanup", "--images", "--keep", "-1"])
    assert exc.value.code == 2


def test_a_cache_hit_makes_an_image_newest(build, tmp_path):
    """An old image that is used again (cache hit) survives the next prune; newer unused ones go."""
    try:
        inputs = build.collect_inputs("stock")
    except build.ImageBuildError as e:
        pytest.skip(f"host lacks the image packages: {e}")
    used = build.build_image(cache_dir=str(tmp_path), kernel="stock")
    current = os.path.dirname(used["manifest"])
    os.utime(used["manifest"], (1, 1))  # built long ago
    fill(str(tmp_path), images=3, kernels=0)  # three newer images
    assert build.build_image(cache_dir=str(tmp_path), kernel="stock")["cached"] is True
    build.cache_prune.prune(str(tmp_path), keep=1)
    assert names(tmp_path) == [build.cache_key(inputs)] == [os.path.basename(current)]
