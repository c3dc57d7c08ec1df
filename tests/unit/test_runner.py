"""The front door: README's two commands, ./run and .ci/run agree and need no environment."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLEAN_ENV = 'env -i PATH="$PATH" HOME="$HOME" '


def readme_commands() -> list[str]:
    """The commands of README's "Two commands" block, comments stripped."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", text, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def script_lines(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_readme_shows_exactly_two_commands():
    assert readme_commands() == ["./run certify", "./run tests"]


def test_ci_first_runs_the_readme_test_command_verbatim_in_a_clean_environment():
    """CI's first use of ./run is README's test command under `env -i` (PATH and HOME only)."""
    test_command = next(c for c in readme_commands() if c.endswith(" tests"))
    runs = [line for line in script_lines(REPO / ".ci" / "run") if "./run" in line]
    assert runs[0] == CLEAN_ENV + test_command


def test_ci_sets_no_variable_before_the_readme_command():
    """An exported CONFORMANCE_* (or any) variable before the README command would hide breakage."""
    lines = script_lines(REPO / ".ci" / "run")
    first = next(i for i, line in enumerate(lines) if "./run" in line)
    assert not [line for line in lines[:first]
                if line.startswith("export ") or re.match(r"^[A-Z_][A-Z0-9_]*=", line)]


def test_run_needs_no_environment_knob():
    """./run reads only CONFORMANCE_* variables it sets itself (a user sets none)."""
    text = (REPO / "run").read_text()
    read = set(re.findall(r"\$\{?(CONFORMANCE_[A-Z_]+)", text))
    exported = set(re.findall(r"export (CONFORMANCE_[A-Z_]+)=", text))
    assert read <= exported, f"./run depends on {sorted(read - exported)} from the environment"
