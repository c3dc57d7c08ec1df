#!/usr/bin/env python3
"""Build (and cache) the conformance guest image: kernel + initramfs. Stdlib only.

Usage:
    python3 images/build.py [--json] [--force] [--kernel auto|minimal|stock] [--keep N]
                            [--cache-dir /var/lib/conformance/images]
    python3 images/build.py --prune [--keep N] [--json] [--cache-dir ...]

Stable JSON interface (`--json`, and the dict returned by build_image()):
    {"kernel":   absolute path of the kernel image (bzImage) to boot directly,
     "initrd":   absolute path of initrd.img,
     "cmdline":  recommended kernel command line (console on ttyS0),
     "manifest": absolute path of manifest.json,
     "cached":   true when nothing was built,
     "seconds":  wall time of this call,
     "variant":  "stock" or "minimal",
     "loader":   recommended firmware ROM for <os><loader type='rom'> (qboot), or null
                 when absent (then use the default SeaBIOS)}

The image lives in <cache-dir>/<sha256 of all inputs>/ (vmlinuz, initrd.img,
manifest.json); the minimal kernel is built on first use (~4.5 min on 2 cores) from the
installed kernel source package (linux-source-X.Y) and cached in <cache-dir>/kernels/.
``--kernel auto`` (the default) takes the minimal kernel when a kernel source package is
installed, else the distribution's stock kernel with its modules in the initramfs (and says so). Inputs are the recipe files, the versions of the Debian packages
used, the hashes of every host file copied in, and the kernel. Builds are atomic
(temp dir + rename) and reproducible (fixed mtimes, sorted newc cpio owned by 0:0; uncompressed by default, `gzip -n` when COMPRESS).
After a build the cache keeps the --keep (3) most recently used image and kernel dirs plus
the ones in use (images/prune.py); `--prune` only prunes. Progress lines (`setup: ...`) go to stderr,
only when something is built; stdout carries the result.
The guest prints one line `CONFORMANCE-BOOT boot_id=<id> uptime=<s>` on ttyS0
once qemu-ga is started on the port named org.qemu.guest_agent.0.
Guest tools: /bin/cpuid, /bin/perfprobe (see images/guest-tools/*.c), busybox,
qemu-ga, rngd (not started), /sbin/shutdown (images/shutdown: what qemu-ga's
guest-shutdown and the init's power-button handler run).
"""
import argparse
import fcntl
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_sibling(name):
    """Load images/<name>.py without touching sys.path (this file is loaded by path too)."""
    spec = importlib.util.spec_from_file_location(f"conformance_images_{name}", os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


minimal_kernel = _load_sibling("minimal_kernel")
progress_lines = _load_sibling("progress")
cache_prune = _load_sibling("prune")
remove_stale_temp_dirs = minimal_kernel.remove_stale_temp_dirs

DEFAULT_CACHE_DIR = "/var/lib/conformance/images"
DEFAULT_KERNEL = "auto"  # minimal with a kernel source package, else stock
SOURCE_DATE_EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))
RECIPE_FILES = ["build.py", "init", "shutdown", "guest-tools/cpuid.c", "guest-tools/perfprobe.c"]
HOST_PACKAGES = ["busybox-static", "qemu-guest-agent", "rng-tools5", "libc6", "libc6-dev",
                 "gcc", "cpio", "gzip"]
HOST_BINARIES = {"/usr/sbin/qemu-ga": "usr/sbin/qemu-ga", "/usr/sbin/rngd": "usr/sbin/rngd"}
BUSYBOX = "/bin/busybox"
STOCK_MODULES = ["virtio_pci", "virtio_console", "virtio-rng", "i6300esb"]
# Measured under TCG (see README): noapictimer saves ~0.2 s (no APIC timer calibration),
# acpi=off ~0.6 s when the domain has <acpi/> (this guest has no ACPI consumer).
# rng_core.default_quality=0 is deliberately absent: on 6.1 virtio-rng sets quality=1000
# itself and the hwrng kthread always runs, so the parameter changes nothing.
CMDLINE = "console=ttyS0 panic=-1 quiet noapictimer acpi=off"
CMDLINES = {"stock": CMDLINE, "minimal": CMDLINE}
KERNELS = ["auto", *sorted(CMDLINES)]
# qboot boots the kernel ~0.1-0.25 s sooner than SeaBIOS (watchdog reset verified with it).
QBOOT_ROM = "/usr/share/qemu/qboot.rom"
COMPRESS = False  # uncompressed cpio boots ~0.1-0.2 s faster than gzip under TCG


class ImageBuildError(RuntimeError):
    """The guest image could not be built."""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def package_versions(names):
    """{package: version} for installed Debian packages; raise if one is missing."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Status}\t${Version}\n"] + names,
                         capture_output=True, text=True)
    found = {}
    for line in out.stdout.splitlines():
        pkg, status, version = line.split("\t")
        if status.endswith(" installed"):
            found[pkg.split(":")[0]] = version
    missing = sorted(set(names) - set(found))
    if missing:
        raise ImageBuildError(f"missing Debian packages {missing}: run python3 -m conformance.host.bootstrap")
    return found


def shared_libraries(binary):
    """Absolute paths of the shared libraries (incl. the loader) that ldd lists."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def stock_kernel():
    """(vmlinuz path, release) of the newest /boot/vmlinuz-* that has modules."""
    def version_key(path):
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.-]", path)]
    for path in sorted(glob.glob("/boot/vmlinuz-*"), key=version_key, reverse=True):
        release = path[len("/boot/vmlinuz-"):]
        if os.path.isfile(f"/lib/modules/{release}/modules.dep"):
            return path, release
    raise ImageBuildError("no /boot/vmlinuz-* with modules: install linux-image-amd64")


def module_closure(release, roots):
    """Relative paths (from modules.dep) of `roots` and their dependencies, deps first."""
    deps = {}
    with open(f"/lib/modules/{release}/modules.dep") as f:
        for line in f:
            mod, _, rest = line.partition(":")
            deps[mod] = rest.split()

    def name_of(path):
        return os.path.basename(path).split(".ko")[0].replace("-", "_")
    by_name = {name_of(p): p for p in deps}
    ordered = []

    def visit(path):
        for dep in reversed(deps[path]):
            visit(dep)
        if path not in ordered:
            ordered.append(path)
    for root in roots:
        key = root.replace("-", "_")
        if key in by_name:  # absent means built in
            visit(by_name[key])
    return ordered


def collect_inputs(variant):
    """Everything the image depends on, as a JSON-able dict (its hash is the cache key)."""
    inputs = {"variant": variant, "source_date_epoch": SOURCE_DATE_EPOCH,
              "cmdline": CMDLINES[variant], "compress": COMPRESS, "recipe": {}, "host_files": {}}
    for rel in RECIPE_FILES:
        inputs["recipe"][rel] = sha256_file(os.path.join(HERE, rel))
    packages = list(HOST_PACKAGES)
    files = [BUSYBOX] + list(HOST_BINARIES)
    for binary in HOST_BINARIES:
        files += shared_libraries(binary)
    if variant == "stock":
        vmlinuz, release = stock_kernel()
        packages.append(f"linux-image-{release}")
        modules = module_closure(release, STOCK_MODULES)
        files += [f"/lib/modules/{release}/{m}" for m in modules]
        inputs.update(kernel_path=vmlinuz, kernel_release=release, modules=modules,
                      kernel_sha256=sha256_file(vmlinuz))
    else:
        inputs["recipe"]["minimal_kernel.py"] = sha256_file(os.path.join(HERE, "minimal_kernel.py"))
        inputs["recipe"]["kernel/config.fragment"] = sha256_file(minimal_kernel.FRAGMENT)
        inputs["kernel_key"] = minimal_kernel.cache_key(
            minimal_kernel.package_version(minimal_kernel.required_source_package()),
            open(minimal_kernel.FRAGMENT, "rb").read())
    inputs["packages"] = package_versions(packages)
    for path in sorted(set(files)):
        inputs["host_files"][path] = sha256_file(path)
    return inputs


def resolve_kernel(kernel):
    """The variant ``auto`` stands for on this host: minimal when a kernel source package is
    installed, else stock."""
    if kernel != "auto":
        return kernel
    return "minimal" if minimal_kernel.source_package() else "stock"


STOCK_FALLBACK = ("no kernel source package (linux-source-X.Y) is installed: the guest image "
                  "uses the distribution's stock kernel with its modules in the initramfs "
                  "(boots about 3x slower than the minimal kernel)")


def cache_key(inputs):
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _result(final, variant, cmdline, cached, start):
    return {"kernel": os.path.join(final, "vmlinuz"), "initrd": os.path.join(final, "initrd.img"),
            "cmdline": cmdline, "manifest": os.path.join(final, "manifest.json"),
            "cached": cached, "seconds": round(time.monotonic() - start, 3), "variant": variant,
            "loader": QBOOT_ROM if os.path.isfile(QBOOT_ROM) else None}


def build_image(cache_dir=DEFAULT_CACHE_DIR, force=False, kernel=DEFAULT_KERNEL, progress=None,
                keep=cache_prune.KEEP):
    """Return the image dict (see module docstring); build only when an input changed.

    ``progress`` (images/progress.py; default silent) hears only about real work."""
    start = time.monotonic()
    progress = progress or progress_lines.Quiet()
    if kernel not in KERNELS:
        raise ImageBuildError(f"unknown kernel variant {kernel!r} (auto, stock or minimal)")
    fallback = kernel == "auto" and resolve_kernel(kernel) == "stock"
    kernel = resolve_kernel(kernel)
    cache_dir = os.path.abspath(cache_dir)
    os.makedirs(cache_dir, mode=0o755, exist_ok=True)
    inputs = collect_inputs(kernel)
    key = cache_key(inputs)
    final = os.path.join(cache_dir, key)
    done = os.path.join(final, "manifest.json")
    if not force and os.path.isfile(done):
        cache_prune.mark_used(final)
        return _result(final, kernel, inputs["cmdline"], True, start)
    kernel_info = None
    if kernel == "minimal":
        kernel_info = minimal_kernel.build_kernel(cache_dir, progress)
    with open(os.path.join(cache_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent callers wait, then find the cache
        if not force and os.path.isfile(done):
            cache_prune.mark_used(final)
            return _result(final, kernel, inputs["cmdline"], True, start)
        remove_stale_temp_dirs(cache_dir)  # left by a killed build; we hold the lock
        work = tempfile.mkdtemp(prefix=".tmp-", dir=cache_dir)
        if fallback:
            progress.say(STOCK_FALLBACK)
        progress.say(f"building the guest image ({kernel} kernel, initramfs) into {final}")
        try:
            out = os.path.join(work, "out")
            os.mkdir(out)
            _assemble(inputs, kernel_info, work, out, key, start)
            _publish(out, final)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        kernels = [kernel_info["key"]] if kernel_info else []
        for path in cache_prune.prune(cache_dir, keep, in_use=[key], kernels_in_use=kernels):
            progress.say(f"removed old cache dir {path} (keeping the newest {keep})")
    result = _result(final, kernel, inputs["cmdline"], False, start)
    progress.say(f"guest image ready in {result['seconds']:.0f} s")
    return result


def prune_cache(cache_dir=DEFAULT_CACHE_DIR, keep=cache_prune.KEEP, kernel=DEFAULT_KERNEL):
    """Prune the cache now (under the build lock); never the current image of ``kernel``."""
    try:
        inputs = collect_inputs(resolve_kernel(kernel))
        in_use, kernels = [cache_key(inputs)], [inputs.get("kernel_key")]
    except (ImageBuildError, minimal_kernel.KernelBuildError, OSError, subprocess.CalledProcessError):
        in_use, kernels = [], []  # no current image on this host: keep the newest only
    if not os.path.isdir(cache_dir):
        return []
    with open(os.path.join(cache_dir, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return cache_prune.prune(cache_dir, keep, in_use=in_use, kernels_in_use=kernels)


def _publish(out, final):
    """Fix permissions for the QEMU user and move the finished image into place."""
    os.chmod(out, 0o755)
    for name in os.listdir(out):
        os.chmod(os.path.join(out, name), 0o644)
    if os.path.isdir(final):
        old = final + ".old-" + str(os.getpid())
        os.rename(final, old)
        os.rename(out, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(out, final)


def _assemble(inputs, kernel_info, work, out, key, start):
    """Stage the root filesystem, pack initrd.img and copy the kernel into `out`."""
    root = os.path.join(work, "root")
    _stage_root(root, inputs, work)
    initrd = os.path.join(out, "initrd.img")
    pack_cpio(root, initrd, COMPRESS)
    if kernel_info is None:
        shutil.copyfile(inputs["kernel_path"], os.path.join(out, "vmlinuz"))
        release = inputs["kernel_release"]
    else:
        shutil.copyfile(kernel_info["bzimage"], os.path.join(out, "vmlinuz"))
        with open(os.path.join(os.path.dirname(kernel_info["bzimage"]), "manifest.json")) as f:
            release = json.load(f)["kernel_release"]
    files = sorted(os.path.relpath(os.path.join(d, n), root)
                   for d, _, names in os.walk(root) for n in names)
    manifest = {"input_hash": key, "variant": inputs["variant"], "packages": inputs["packages"],
                "kernel_release": release, "cmdline": inputs["cmdline"],
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.monotonic() - start, 2),
                "initrd_sha256": sha256_file(initrd), "kernel_sha256": sha256_file(os.path.join(out, "vmlinuz")),
                "inputs": inputs, "files": files,
                "recommended_loader": QBOOT_ROM if os.path.isfile(QBOOT_ROM) else None}
    if kernel_info is not None:
        manifest["kernel_key"] = kernel_info["key"]
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


def _copy(src, root, dest_rel, mode=None):
    dest = os.path.join(root, dest_rel.lstrip("/"))
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
    shutil.copyfile(src, dest)
    os.chmod(dest, mode if mode is not None else (0o755 if os.access(src, os.X_OK) else 0o644))


def _stage_root(root, inputs, work):
    """Populate the initramfs tree under `root`."""
    for d in ["bin", "sbin", "usr/bin", "usr/sbin", "lib", "lib64", "etc", "proc", "sys", "dev",
              "tmp", "run", "root", "var/lib", "var/log"]:
        os.makedirs(os.path.join(root, d), mode=0o755, exist_ok=True)
    os.symlink("../run", os.path.join(root, "var/run"))
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    _copy(BUSYBOX, root, "bin/busybox", 0o755)
    applets = subprocess.run([BUSYBOX, "--list-full"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in sorted(set(applets)):
        link = os.path.join(root, applet)
        if applet == "bin/busybox" or os.path.lexists(link):
            continue  # never link busybox to itself (symlink loop: /init fails with -40)
        os.makedirs(os.path.dirname(link), mode=0o755, exist_ok=True)
        os.symlink("/bin/busybox", link)
    for src, dest in HOST_BINARIES.items():
        _copy(src, root, dest, 0o755)
    for path in inputs["host_files"]:
        if path.startswith("/lib") or path.startswith("/usr/lib"):
            if "/modules/" not in path:
                _copy(path, root, path, 0o755)
    _copy(os.path.join(HERE, "init"), root, "init", 0o755)
    _copy(os.path.join(HERE, "shutdown"), root, "sbin/shutdown", 0o755)  # qemu-ga's guest-shutdown
    for tool in ["cpuid", "perfprobe"]:
        dest = os.path.join(root, "bin", tool)
        subprocess.run(["gcc", "-static", "-Os", "-s", "-o", dest,
                        os.path.join(HERE, "guest-tools", tool + ".c")], check=True)
        os.chmod(dest, 0o755)
    if inputs["variant"] == "stock":
        _stage_modules(root, inputs)
    with open(os.path.join(root, "etc/passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    with open(os.path.join(root, "etc/group"), "w") as f:
        f.write("root:x:0:\n")


def _stage_modules(root, inputs):
    """Copy the module closure and write a matching modules.dep and /etc/modules."""
    release = inputs["kernel_release"]
    base = f"/lib/modules/{release}"
    with open(f"{base}/modules.dep") as f:
        deps = dict(line.split(":", 1) for line in f if ":" in line)
    lines = []
    for mod in inputs["modules"]:
        _copy(f"{base}/{mod}", root, f"{base}/{mod}", 0o644)
        lines.append(f"{mod}:{deps[mod].rstrip()}\n")
    with open(os.path.join(root, base.lstrip("/"), "modules.dep"), "w") as f:
        f.writelines(sorted(lines))
    with open(os.path.join(root, "etc/modules"), "w") as f:
        f.write("\n".join(STOCK_MODULES) + "\n")


def pack_cpio(root, dest, compress):
    """Write a reproducible newc cpio (sorted entries, fixed mtimes, root-owned)."""
    for d, dirs, names in os.walk(root, topdown=False):
        for n in names + dirs:
            os.utime(os.path.join(d, n), (SOURCE_DATE_EPOCH, SOURCE_DATE_EPOCH), follow_symlinks=False)
    os.utime(root, (SOURCE_DATE_EPOCH, SOURCE_DATE_EPOCH))
    entries = ["."]
    for d, dirs, names in os.walk(root):
        for n in dirs + names:
            entries.append(os.path.relpath(os.path.join(d, n), root))
    listing = "".join(e + "\n" for e in sorted(entries)).encode()
    with open(dest, "wb") as out:
        cpio = subprocess.Popen(["cpio", "--quiet", "--reproducible", "-o", "-H", "newc", "-R", "0:0"],
                                cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        if compress:
            gz = subprocess.Popen(["gzip", "-n", "-6"], stdin=cpio.stdout, stdout=out)
            cpio.stdout.close()
            cpio.stdin.write(listing)
            cpio.stdin.close()
            if gz.wait() != 0 or cpio.wait() != 0:
                raise ImageBuildError("cpio | gzip failed")
        else:
            data, _ = cpio.communicate(listing)
            out.write(data)
            if cpio.returncode != 0:
                raise ImageBuildError("cpio failed")


def main(argv=None):
    p = argparse.ArgumentParser(description="Build the conformance guest image (cached).")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--force", action="store_true", help="rebuild the initramfs even if cached")
    p.add_argument("--kernel", choices=KERNELS, default=DEFAULT_KERNEL)
    p.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR)
    p.add_argument("--keep", type=int, default=cache_prune.KEEP,
                   help="image and kernel dirs to keep after a build (default %(default)s)")
    p.add_argument("--prune", action="store_true", help="only prune the cache; print what was removed")
    a = p.parse_args(argv)
    if a.keep < 0:
        p.error("--keep must be >= 0")
    if a.prune:
        removed = prune_cache(os.path.abspath(a.cache_dir), a.keep, a.kernel)
        for line in [json.dumps({"removed": removed})] if a.json else [f"removed {r}" for r in removed]:
            print(line)
        return 0
    try:
        res = build_image(cache_dir=a.cache_dir, force=a.force, kernel=a.kernel,
                          progress=progress_lines.Progress(), keep=a.keep)
    except (ImageBuildError, minimal_kernel.KernelBuildError, subprocess.CalledProcessError) as e:
        print(f"image build failed: {e}", file=sys.stderr)
        return 1
    if a.json:
        print(json.dumps(res, sort_keys=True))
    else:
        state = "cached" if res["cached"] else "built"
        print(f"{state} {res['variant']} image in {res['seconds']} s\n  kernel  {res['kernel']}\n"
              f"  initrd  {res['initrd']}\n  cmdline {res['cmdline']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
