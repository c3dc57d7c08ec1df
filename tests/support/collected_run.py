"""Run a small pytest suite under the results collector, as certify's child does, and read
what it recorded: for tests of how a verdict is recorded, without guests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conformance.run.results import read_results


def run_collected(directory: Path, name: str, source: str, *extra: str
                  ) -> tuple[subprocess.CompletedProcess, dict]:
    """Write ``source`` as ``directory/name``, run it with the collector plugin: (the pytest
    run, the recorded results: ``entries`` etc., :func:`read_results`)."""
    (directory / name).write_text(source)
    results = directory / "results.jsonl"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "conformance.report.collector",
                           "-p", "no:cacheprovider", "--cfm-results", str(results), "-q",
                           *extra, str(directory / name)],
                          cwd=directory, capture_output=True, text=True, timeout=120)
    return done, read_results(results, done.returncode)
