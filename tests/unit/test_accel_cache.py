"""The KVM probe cache keeps one result per host/image key: images in use side by side
(worktrees, releases) no longer evict each other and re-run the 15 s probe."""

from conformance.host import accel


def test_results_for_several_images_are_all_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(accel, "CACHE_FILE", tmp_path / "accel.json")
    accel._write_cache("image-a", accel.Accelerator("qemu", "probe hung"))
    accel._write_cache("image-b", accel.Accelerator("kvm", "boot marker in 0.9 s"))
    assert accel._read_cache("image-a").virt_type == "qemu"
    assert accel._read_cache("image-b").virt_type == "kvm"
    assert accel._read_cache("image-b").cached and "probe cached" in accel._read_cache("image-b").reason
    assert accel._read_cache("image-c") is None


def test_only_the_newest_entries_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(accel, "CACHE_FILE", tmp_path / "accel.json")
    for n in range(accel.CACHE_ENTRIES + 3):
        accel._write_cache(f"image-{n}", accel.Accelerator("qemu", "probe hung"))
    assert accel._read_cache("image-0") is None
    assert accel._read_cache(f"image-{accel.CACHE_ENTRIES + 2}") is not None


def test_an_old_single_entry_or_broken_cache_reads_as_empty(tmp_path, monkeypatch):
    monkeypatch.setattr(accel, "CACHE_FILE", tmp_path / "accel.json")
    (tmp_path / "accel.json").write_text('{"key": "image-a", "virt_type": "qemu", "reason": "x", "at": 0}')
    assert accel._read_cache("image-a") is None
    (tmp_path / "accel.json").write_text("not json")
    assert accel._read_cache("image-a") is None
    accel._write_cache("image-a", accel.Accelerator("qemu", "probe hung"))
    assert accel._read_cache("image-a").virt_type == "qemu"
