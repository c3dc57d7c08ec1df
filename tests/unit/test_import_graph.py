"""No import cycle anywhere in ``conformance/``: the import graph (every ``import`` and
``from ... import``, also those inside functions, and the packages each import runs) has
no strongly connected component of more than one module."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules(root: Path = ROOT, package: str = "conformance") -> dict[str, Path]:
    """Dotted module name -> file, for every module of ``package`` under ``root``."""
    found = {}
    for path in (root / package).rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that importing module ``name`` (file ``path``) may run:
    each imported module and the packages above it (``__init__`` runs first)."""
    targets = set()
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, up level - 1
                up = package[:len(package) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    for target in targets:
        parts = target.split(".")
        found.update(".".join(parts[:n]) for n in range(1, len(parts) + 1)
                     if ".".join(parts[:n]) in known)
    found.discard(name)
    return {m for m in found if not name.startswith(m + ".")}  # a module's own packages: running already


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def graph_of(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imported(name, path, known) for name, path in known.items()}


def test_conformance_has_no_import_cycle():
    assert cycles(graph_of()) == []


def test_a_cycle_through_an_import_inside_a_function_is_found(tmp_path):
    package = tmp_path / "conformance"
    (package / "live").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "live" / "__init__.py").write_text("")
    (package / "live" / "plan.py").write_text(
        "from conformance.live.grouping import group\n\ndef later():\n"
        "    from conformance.live import lifecycle\n")
    (package / "live" / "lifecycle.py").write_text("from conformance.live.plan import judged\n")
    (package / "live" / "grouping.py").write_text("import conformance.live\n")
    assert cycles(graph_of(tmp_path)) == [["conformance.live.lifecycle", "conformance.live.plan"]]


def test_a_package_that_imports_its_own_user_is_a_cycle(tmp_path):
    package = tmp_path / "conformance"
    (package / "drivers").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "drivers" / "__init__.py").write_text("from .exec import ExecDriver\n")
    (package / "drivers" / "exec.py").write_text("from conformance.lab import lab\n")
    (package / "lab").mkdir()
    (package / "lab" / "__init__.py").write_text("")
    (package / "lab" / "lab.py").write_text("from conformance.drivers import load_driver\n")
    assert cycles(graph_of(tmp_path)) == [
        ["conformance.drivers", "conformance.drivers.exec", "conformance.lab.lab"]]
