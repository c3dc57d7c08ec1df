"""Set-up progress (images/progress.py): line-based, periodic elapsed lines, quiet when cached.

Fake clock and fake processes; the kernel build is simulated (no compiler runs).
"""
import io
import os
import subprocess

import pytest

from test_image_recipe import IMAGES, load_build


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeProc:
    """Runs for ``seconds`` of fake time; ``on_exit`` runs when it finishes."""

    def __init__(self, clock, seconds, code=0, on_exit=None):
        self.clock, self.end, self.code, self.on_exit = clock, clock.now + seconds, code, on_exit
        self.returncode = None

    def wait(self, timeout=None):
        if timeout is not None and self.clock.now + timeout < self.end:
            self.clock.now += timeout
            raise subprocess.TimeoutExpired("fake", timeout)
        self.clock.now = max(self.clock.now, self.end)
        if self.on_exit:
            self.on_exit()
        self.returncode = self.code
        return self.code

    def kill(self):
        self.returncode = -9


@pytest.fixture(scope="module")
def progress_mod():
    return load_build(IMAGES, "image_build_progress_test").progress_lines


def test_run_prints_elapsed_every_interval(progress_mod):
    """A 50 s command prints whole lines at 15, 30 and 45 s of the step, nothing else."""
    clock, out = FakeClock(), io.StringIO()
    p = progress_mod.Progress(stream=out, clock=clock,
                              popen=lambda cmd, **kw: FakeProc(clock, 50))
    assert p.run(["make"], "kernel: compile") == 0
    assert out.getvalue().splitlines() == [f"setup: kernel: compile, {s} s elapsed" for s in (15, 30, 45)]
    assert "\r" not in out.getvalue()


def test_elapsed_counts_from_the_step_start(progress_mod):
    """Several commands of one step: the elapsed figure keeps growing across them."""
    clock, out = FakeClock(), io.StringIO()
    p = progress_mod.Progress(stream=out, clock=clock,
                              popen=lambda cmd, **kw: FakeProc(clock, 20))
    p.restart()
    p.run(["a"], "x")
    p.run(["b"], "x")
    assert out.getvalue().splitlines() == ["setup: x, 15 s elapsed", "setup: x, 35 s elapsed"]


def test_short_command_prints_nothing_and_returns_its_code(progress_mod):
    clock, out = FakeClock(), io.StringIO()
    p = progress_mod.Progress(stream=out, clock=clock,
                              popen=lambda cmd, **kw: FakeProc(clock, 3, code=2))
    assert p.run(["false"], "x") == 2
    assert out.getvalue() == ""


def test_interrupted_command_is_killed(progress_mod):
    """Ctrl-C while waiting kills the command instead of leaving it running."""
    procs = []

    class Interrupted(FakeProc):
        def wait(self, timeout=None):
            if self.returncode is None and timeout is not None:
                raise KeyboardInterrupt
            return self.returncode

    def popen(cmd, **kw):
        procs.append(Interrupted(FakeClock(), 100))
        return procs[-1]
    with pytest.raises(KeyboardInterrupt):
        progress_mod.Progress(stream=io.StringIO(), popen=popen).run(["sleep"], "x")
    assert procs[0].returncode == -9


def test_quiet_says_nothing(progress_mod):
    clock = FakeClock()
    q = progress_mod.Quiet(stream=io.StringIO(), clock=clock,
                           popen=lambda cmd, **kw: FakeProc(clock, 100))
    q.say("hello")
    assert q.run(["x"], "y") == 0 and q.stream.getvalue() == ""


@pytest.fixture
def fake_kernel_build(monkeypatch, tmp_path):
    """minimal_kernel with every build command simulated: 1 s unpack, 2 s configure, 70 s compile."""
    mk = load_build(IMAGES, "image_build_fake_kernel").minimal_kernel
    monkeypatch.setattr(mk, "package_version", lambda name: "6.1.test")
    monkeypatch.setattr(mk, "source_package", lambda: "linux-source-6.1")
    real_run = subprocess.run
    monkeypatch.setattr(mk.subprocess, "run", lambda cmd, **kw: (
        subprocess.CompletedProcess(cmd, 0, "6.1.0-fake\n", "") if cmd[:2] == ["make", "-s"]
        else real_run(cmd, **kw)))
    wanted = open(mk.FRAGMENT).read()
    clock = FakeClock()

    def popen(cmd, cwd=None, **kw):
        src = os.path.join(cwd, "linux-source-6.1")
        if cmd[0] == "tar":
            return FakeProc(clock, 1, on_exit=lambda: os.makedirs(os.path.join(src, "arch/x86/boot")))
        if cmd[-1] == "bzImage":
            boot = os.path.join(cwd, "arch/x86/boot/bzImage")
            return FakeProc(clock, 70, on_exit=lambda: open(boot, "wb").write(b"kernel"))
        config = os.path.join(cwd, ".config")
        return FakeProc(clock, 1, on_exit=lambda: open(config, "a").write(wanted))
    out = io.StringIO()
    progress = load_build(IMAGES, "image_build_fake_progress").progress_lines.Progress(
        stream=out, clock=clock, popen=popen)
    return mk, progress, out, str(tmp_path)


def test_kernel_build_names_its_phases_and_elapsed_time(fake_kernel_build):
    """A (simulated) build: announcement with 'first run only, about 5 min', the three phases,
    a line every 15 s of compile with the build's elapsed time (3 s before compile), a final line."""
    mk, progress, out, cache = fake_kernel_build
    result = mk.build_kernel(cache, progress, jobs=2)
    assert result["cached"] is False and open(result["bzimage"], "rb").read() == b"kernel"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("setup: building the minimal guest kernel (first run only, about 5 min); log: ")
    assert lines[1:] == ["setup: kernel: unpack", "setup: kernel: configure",
                         "setup: kernel: compile (2 jobs)",
                         "setup: kernel: compile, 18 s elapsed", "setup: kernel: compile, 33 s elapsed",
                         "setup: kernel: compile, 48 s elapsed", "setup: kernel: compile, 63 s elapsed",
                         "setup: kernel: built in 73 s"]


def test_cached_kernel_says_nothing(fake_kernel_build):
    mk, progress, out, cache = fake_kernel_build
    mk.build_kernel(cache, progress, jobs=2)
    before = out.getvalue()
    assert mk.build_kernel(cache, progress, jobs=2)["cached"] is True
    assert out.getvalue() == before


def test_image_build_main_is_quiet_when_cached(tmp_path, capsys):
    """build.py's stderr: progress lines when it builds, nothing on the cached second call;
    stdout carries only the result."""
    build = load_build(IMAGES, "image_build_quiet_test")
    try:
        build.collect_inputs("stock")
    except build.ImageBuildError as e:
        pytest.skip(f"host lacks the image packages: {e}")
    argv = ["--kernel", "stock", "--cache-dir", str(tmp_path), "--json"]
    assert build.main(argv) == 0
    first = capsys.readouterr()
    assert first.err.startswith("setup: building the guest image (stock kernel, initramfs) into ")
    assert all(line.startswith("setup: ") for line in first.err.splitlines())
    assert build.main(argv) == 0
    second = capsys.readouterr()
    assert second.err == "" and '"cached": true' in second.out
