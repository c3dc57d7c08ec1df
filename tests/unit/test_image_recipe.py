"""Guest image recipe (images/build.py): cache key, reproducibility, atomicity, init logic.

No libvirt. Builds use the stock kernel variant so no kernel is compiled.
"""
import hashlib
import importlib.util
import os
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGES = os.path.join(REPO, "images")


def load_build(images_dir=IMAGES, name="image_build_under_test"):
    """Load images/build.py (which loads its sibling minimal_kernel.py) from `images_dir`."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(images_dir, "build.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def build():
    mod = load_build()
    try:
        mod.collect_inputs("stock")
    except mod.ImageBuildError as e:
        pytest.skip(f"host lacks the image packages: {e}")
    return mod


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def cpio_listing(initrd):
    with open(initrd, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = subprocess.run(["gzip", "-dc"], input=data, capture_output=True, check=True).stdout
    return subprocess.run(["cpio", "-itv", "--quiet"], input=data, capture_output=True,
                          check=True).stdout.decode()


def test_cache_key_changes_with_each_input(build):
    """Changing a recipe hash, a package version or the kernel hash changes the cache key."""
    inputs = build.collect_inputs("stock")
    key = build.cache_key(inputs)
    assert build.cache_key(build.collect_inputs("stock")) == key
    for mutate in (lambda i: i["recipe"].__setitem__("init", "0" * 64),
                   lambda i: i["packages"].__setitem__("busybox-static", "9:9.9"),
                   lambda i: i.__setitem__("kernel_sha256", "1" * 64)):
        changed = build.collect_inputs("stock")
        mutate(changed)
        assert build.cache_key(changed) != key


def test_editing_a_recipe_file_changes_the_key(build, tmp_path):
    """A copy of images/ with an edited init script yields a different cache key."""
    copy = tmp_path / "images"
    shutil.copytree(IMAGES, copy, ignore=shutil.ignore_patterns("__pycache__"))
    other = load_build(str(copy), "image_build_copy")
    same = other.cache_key(other.collect_inputs("stock"))
    assert same == build.cache_key(build.collect_inputs("stock"))
    with open(copy / "init", "a") as f:
        f.write("# edited\n")
    assert other.cache_key(other.collect_inputs("stock")) != same


def test_minimal_kernel_key_depends_on_fragment(build):
    """The minimal kernel's cache key changes with the config fragment and source version."""
    mk = build.minimal_kernel
    base = mk.cache_key("6.1.1-1", b"CONFIG_A=y\n")
    assert mk.cache_key("6.1.1-1", b"CONFIG_A=y\n") == base
    assert mk.cache_key("6.1.1-2", b"CONFIG_A=y\n") != base
    assert mk.cache_key("6.1.1-1", b"CONFIG_A=n\n") != base


def test_fragment_options_that_did_not_stick_are_reported(build):
    """missing_options names fragment options whose final .config value differs."""
    mk = build.minimal_kernel
    wanted = mk.fragment_options("# c\nCONFIG_A=y\nCONFIG_B=n\nCONFIG_C=y\nCONFIG_D=n\n")
    config = "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_D=y\n"
    assert mk.missing_options(wanted, config) == ["CONFIG_C", "CONFIG_D"]


def test_fragment_covers_the_features_the_suite_needs(build):
    """The minimal kernel fragment enables agent port, watchdog, hwrng, perf, sysctl, initramfs."""
    with open(build.minimal_kernel.FRAGMENT) as f:
        opts = build.minimal_kernel.fragment_options(f.read())
    for needed in ["VIRTIO_CONSOLE", "VIRTIO_PCI", "I6300ESB_WDT", "WATCHDOG_SYSFS",
                   "HW_RANDOM_VIRTIO", "PERF_EVENTS", "PROC_SYSCTL", "BLK_DEV_INITRD",
                   "SERIAL_8250_CONSOLE", "DEVTMPFS"]:
        assert opts.get("CONFIG_" + needed) == "y", needed


def test_build_is_reproducible_cached_and_readable(build, tmp_path):
    """Two forced builds give the same initrd bytes; an unforced call is served from the cache;
    the image dir is 0755 and its files 0644 (readable by the QEMU user)."""
    first = build.build_image(cache_dir=str(tmp_path), force=True, kernel="stock")
    digest = sha256(first["initrd"])
    second = build.build_image(cache_dir=str(tmp_path), force=True, kernel="stock")
    assert second["cached"] is False and sha256(second["initrd"]) == digest
    third = build.build_image(cache_dir=str(tmp_path), kernel="stock")
    assert third["cached"] is True and third["initrd"] == first["initrd"]
    assert set(third) == {"kernel", "initrd", "cmdline", "manifest", "cached", "seconds", "variant",
                          "loader"}
    image_dir = os.path.dirname(first["initrd"])
    assert os.stat(image_dir).st_mode & 0o777 == 0o755
    for name in ("vmlinuz", "initrd.img", "manifest.json"):
        assert os.stat(os.path.join(image_dir, name)).st_mode & 0o777 == 0o644
    assert sorted(os.listdir(tmp_path)) == [".lock", os.path.basename(image_dir)]


def test_gzip_packing_is_reproducible(build, tmp_path):
    """pack_cpio with gzip gives identical bytes for identical trees (gzip -n: no name, no mtime)."""
    digests = []
    for i in range(2):
        root = tmp_path / f"root{i}"
        (root / "bin").mkdir(parents=True)
        (root / "bin" / "tool").write_text("echo hi\n")
        os.symlink("tool", root / "bin" / "alias")
        dest = tmp_path / f"initrd{i}.gz"
        build.pack_cpio(str(root), str(dest), compress=True)
        digests.append(sha256(dest))
        assert "bin/alias" in cpio_listing(str(dest))
    assert digests[0] == digests[1]


def test_initrd_contents(build, tmp_path):
    """The initramfs has /init, a real busybox (no self-link), qemu-ga + loader, helpers, modules.dep."""
    res = build.build_image(cache_dir=str(tmp_path), kernel="stock")
    listing = {line.split()[-1] if " -> " not in line else line.split()[-3]: line
               for line in cpio_listing(res["initrd"]).splitlines()}
    for path in ["init", "bin/busybox", "bin/sh", "bin/cpuid", "bin/perfprobe", "usr/sbin/qemu-ga",
                 "usr/sbin/rngd", "lib64/ld-linux-x86-64.so.2", "sbin/modprobe"]:
        assert path in listing, path
    assert listing["bin/busybox"].startswith("-rwx")
    assert listing["bin/sh"].startswith("l")
    assert any(p.endswith("/modules.dep") for p in listing)
    assert any(p.endswith("virtio_console.ko") for p in listing)


def test_failed_build_leaves_nothing_behind(build, tmp_path, monkeypatch):
    """An exception while packing removes the temp dir and publishes no image."""
    def boom(*a, **k):
        raise build.ImageBuildError("simulated failure")
    monkeypatch.setattr(build, "pack_cpio", boom)
    with pytest.raises(build.ImageBuildError):
        build.build_image(cache_dir=str(tmp_path), force=True, kernel="stock")
    assert os.listdir(tmp_path) == [".lock"]


def test_stale_temp_dir_of_a_killed_build_is_removed(build, tmp_path):
    """A .tmp-* dir left by a killed build is removed by the next build (which holds the lock)."""
    stale = tmp_path / ".tmp-killed"
    (stale / "root").mkdir(parents=True)
    build.build_image(cache_dir=str(tmp_path), force=True, kernel="stock")
    assert not stale.exists()


def test_module_closure_loads_dependencies_first(build):
    """Stock modules come in dependency order: virtio_ring, virtio before virtio_pci and consumers."""
    _, release = build.stock_kernel()
    mods = [os.path.basename(m) for m in build.module_closure(release, build.STOCK_MODULES)]
    if "virtio_pci.ko" not in mods:
        pytest.skip("virtio_pci is built into this host kernel")
    assert mods.index("virtio_ring.ko") < mods.index("virtio.ko") < mods.index("virtio_pci.ko")
    assert mods.index("watchdog.ko") < mods.index("i6300esb.ko")


BUSYBOX = shutil.which("busybox")


def run_find_agent_port(sysfs):
    script = f". {os.path.join(IMAGES, 'init')}; find_agent_port"
    return subprocess.run([BUSYBOX, "sh", "-c", script], capture_output=True, text=True,
                          env={"CONFORMANCE_INIT_LIB": "1", "SYSFS_ROOT": str(sysfs), "PATH": "/usr/bin:/bin"})


def make_port(sysfs, port, name):
    d = sysfs / "class" / "virtio-ports" / port
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")


@pytest.mark.skipif(BUSYBOX is None, reason="busybox (busybox-static) not installed on the host")
def test_init_finds_the_agent_port_among_others(tmp_path):
    """find_agent_port picks the port named org.qemu.guest_agent.0, not the first port."""
    make_port(tmp_path, "vport0p1", "org.example.other")
    make_port(tmp_path, "vport0p2", "org.qemu.guest_agent.0")
    res = run_find_agent_port(tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "/dev/vport0p2"


@pytest.mark.skipif(BUSYBOX is None, reason="busybox (busybox-static) not installed on the host")
def test_init_reports_missing_agent_port(tmp_path):
    """Without an agent port find_agent_port fails and prints nothing."""
    make_port(tmp_path, "vport0p1", "org.example.other")
    res = run_find_agent_port(tmp_path)
    assert res.returncode == 1 and res.stdout == ""


def run_has_virtio_console(sysfs):
    script = f". {os.path.join(IMAGES, 'init')}; has_virtio_console"
    return subprocess.run([BUSYBOX, "sh", "-c", script], capture_output=True, text=True,
                          env={"CONFORMANCE_INIT_LIB": "1", "SYSFS_ROOT": str(sysfs), "PATH": "/usr/bin:/bin"})


def make_virtio_device(sysfs, name, device_id):
    d = sysfs / "bus" / "virtio" / "devices" / name
    d.mkdir(parents=True)
    (d / "device").write_text(device_id + "\n")


@pytest.mark.skipif(BUSYBOX is None, reason="busybox (busybox-static) not installed on the host")
def test_init_sees_a_virtio_console_among_other_virtio_devices(tmp_path):
    """has_virtio_console: true with a virtio console (0x0003) next to others, so the init
    waits for the agent port; false with other virtio devices only (no wait)."""
    make_virtio_device(tmp_path, "virtio0", "0x0004")
    assert run_has_virtio_console(tmp_path).returncode == 1
    make_virtio_device(tmp_path, "virtio1", "0x0003")
    assert run_has_virtio_console(tmp_path).returncode == 0


@pytest.mark.skipif(BUSYBOX is None, reason="busybox (busybox-static) not installed on the host")
def test_init_without_virtio_devices_has_no_console(tmp_path):
    assert run_has_virtio_console(tmp_path).returncode == 1


def run_find_power_button(sysfs):
    script = f". {os.path.join(IMAGES, 'init')}; find_power_button"
    return subprocess.run([BUSYBOX, "sh", "-c", script], capture_output=True, text=True,
                          env={"CONFORMANCE_INIT_LIB": "1", "SYSFS_ROOT": str(sysfs), "PATH": "/usr/bin:/bin"})


def make_input(sysfs, node, name, event):
    d = sysfs / "class" / "input" / node
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    (d / event).mkdir()


@pytest.mark.skipif(BUSYBOX is None, reason="busybox (busybox-static) not installed on the host")
def test_init_finds_the_power_button_among_other_inputs(tmp_path):
    """find_power_button picks the event device of the input named "Power Button" (the ACPI
    button driver's), not the first input device."""
    make_input(tmp_path, "input0", "Sleep Button", "event0")
    make_input(tmp_path, "input1", "Power Button", "event1")
    res = run_find_power_button(tmp_path)
    assert res.returncode == 0 and res.stdout.strip() == "/dev/input/event1"


@pytest.mark.skipif(BUSYBOX is None, reason="busybox (busybox-static) not installed on the host")
def test_init_without_acpi_has_no_power_button(tmp_path):
    """A kernel booted with acpi=off has no power button: nothing to watch, nothing printed."""
    make_input(tmp_path, "input0", "AT Translated Set 2 keyboard", "event0")
    res = run_find_power_button(tmp_path)
    assert res.returncode == 1 and res.stdout == ""


def test_the_image_installs_the_shutdown_that_qemu_ga_runs():
    """qemu-ga's guest-shutdown execs /sbin/shutdown (busybox has none): the recipe installs
    images/shutdown there, and it is part of the image's hash."""
    with open(os.path.join(IMAGES, "build.py")) as f:
        build = f.read()
    assert '"sbin/shutdown"' in build and '"shutdown"' in build
    assert os.stat(os.path.join(IMAGES, "shutdown")).st_mode & 0o111
