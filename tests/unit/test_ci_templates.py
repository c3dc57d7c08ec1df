"""The CI definitions in ci-templates/ parse, name only ``conformance`` subcommands and
options that exist, use the commands a CI fan-out needs, and reference files that exist."""

import re
from pathlib import Path

import pytest
import yaml

from conformance import cli

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "ci-templates"
FILES = sorted(TEMPLATES.rglob("*.y*ml"))
COMMAND = re.compile(r"(?:^|[\s/\"'])conformance[ \t]+([a-z][a-z-]*)([^\n;|&]*)")


def shell_texts(node) -> list[str]:
    """Every string in a parsed YAML document (scripts, commands, folded lines)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in shell_texts(value)]
    if isinstance(node, list):
        return [text for value in node for text in shell_texts(value)]
    return []


def commands(path: Path) -> list[tuple[str, list[str]]]:
    """(subcommand, its --options) of every ``conformance SUBCOMMAND ...`` in ``path``."""
    found = []
    for text in shell_texts(yaml.safe_load(path.read_text())):
        for match in COMMAND.finditer(text):
            found.append((match[1], re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", match[2])))
    return found


def options_of(subcommand: str) -> set[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[subcommand]
    return {option for action in sub._actions for option in action.option_strings}


def test_there_are_a_github_workflow_and_a_zuul_job_with_playbooks():
    names = {p.relative_to(TEMPLATES).as_posix() for p in FILES}
    assert "github/conformance.yml" in names and "zuul/zuul.yaml" in names
    assert any(name.startswith("zuul/playbooks/") for name in names)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_template_parses_and_names_existing_subcommands_and_options(path):
    used = commands(path)
    for subcommand, options in used:
        assert subcommand in cli.SUBCOMMANDS, f"{path.name}: conformance {subcommand}"
        assert set(options) <= options_of(subcommand), f"{path.name}: conformance {subcommand} {options}"


@pytest.mark.parametrize("engine", ["github", "zuul"])
def test_each_engine_sets_up_certifies_and_merges(engine):
    used = {sub for path in FILES if path.relative_to(TEMPLATES).parts[0] == engine
            for sub, _ in commands(path)}
    assert {"setup", "certify", "merge"} <= used, used


def test_github_workflow_has_a_host_matrix_artefacts_junit_and_a_merge_job():
    workflow = yaml.safe_load((TEMPLATES / "github" / "conformance.yml").read_text())
    certify, merge = workflow["jobs"]["certify"], workflow["jobs"]["merge"]
    assert certify["strategy"]["matrix"]["host"] and merge["needs"] == "certify"
    uses = [step.get("uses", "") for job in (certify, merge) for step in job["steps"]]
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert any(u.startswith("actions/download-artifact") for u in uses)
    assert any("junit" in u for u in uses)
    assert any("/dev/kvm" in step.get("run", "") for step in certify["steps"])


def test_zuul_jobs_reference_playbooks_that_exist_and_merge_depends_on_certify_jobs():
    config = yaml.safe_load((TEMPLATES / "zuul" / "zuul.yaml").read_text())
    jobs = {item["job"]["name"]: item["job"] for item in config if "job" in item}
    for job in jobs.values():
        for key in ("pre-run", "run", "post-run"):
            for playbook in ([job[key]] if isinstance(job.get(key), str) else job.get(key) or []):
                assert (TEMPLATES / "zuul" / playbook).is_file(), playbook
    project = next(item["project"] for item in config if "project" in item)
    merge = next(j for j in project["check"]["jobs"] if isinstance(j, dict))["hv-conformance-merge"]
    assert {d["name"] for d in merge["dependencies"]} <= set(jobs) and len(merge["dependencies"]) >= 2


def test_documented():
    docs = (REPO / "docs" / "ci.md").read_text()
    assert "ci-templates/github/conformance.yml" in docs and "ci-templates/zuul/zuul.yaml" in docs
    assert "`ci-templates/`" in (REPO / "README.md").read_text()
