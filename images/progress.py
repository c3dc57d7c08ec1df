"""Line-based progress of the long set-up steps, on stderr (stdout stays the result). Stdlib only.

Every message is one whole line ``setup: ...`` (no carriage returns), so it reads the same
on a terminal and in a CI log. ``run()`` runs one command and, while it runs, prints the
elapsed time of the whole step every ``interval`` seconds.
"""
import subprocess
import sys
import time

INTERVAL = 15.0


class Progress:
    """Prints ``setup: <text>`` lines; ``clock`` and ``popen`` are injectable for tests."""

    def __init__(self, stream=None, clock=time.monotonic, interval=INTERVAL, popen=subprocess.Popen):
        self.stream = stream if stream is not None else sys.stderr
        self.clock, self.interval, self.popen = clock, interval, popen
        self.started = clock()

    def say(self, text):
        self.stream.write(f"setup: {text}\n")
        self.stream.flush()

    def restart(self):
        """Elapsed times count from now."""
        self.started = self.clock()

    def elapsed(self):
        return self.clock() - self.started

    def run(self, cmd, label, **popen_kwargs):
        """Run ``cmd`` to completion; print ``<label>, N s elapsed`` every interval. Return its exit code."""
        proc = self.popen(cmd, **popen_kwargs)
        try:
            next_tick = self.clock() + self.interval
            while True:
                try:
                    return proc.wait(timeout=max(0.0, next_tick - self.clock()))
                except subprocess.TimeoutExpired:
                    if self.clock() >= next_tick:
                        self.say(f"{label}, {self.elapsed():.0f} s elapsed")
                        next_tick += self.interval
        finally:
            if proc.returncode is None:  # interrupted (Ctrl-C): do not leave the command running
                proc.kill()
                proc.wait()


class Quiet(Progress):
    """Says nothing (library callers); still runs commands."""

    def say(self, text):
        pass
