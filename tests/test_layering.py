"""The package's shape: no import cycle between modules, and every import points down the layers.

The layers are the ones `src/newscorpus/__init__.py` describes; this list is their one
machine-readable form. Imports inside functions count too, and are allowed only where
listed below with the reason (never to dodge a cycle).
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO

PACKAGE = "newscorpus"
# Top first. Members of one layer are independent of each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("publish", "build", "add"),
    ("card",),
    ("validation", "labelstudio"),
    ("release",),
    ("ingest",),
    ("project",),
    ("schema",),
    ("errors", "files", "segment"),
)
# Imports of the package's own modules inside a function, each with why it is not at the top.
DEFERRED_ALLOWED = {
    ("newscorpus.validation.spark_engine", "newscorpus.validation.spark_views"): "pyspark is an optional extra",
}


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module of the package
    line: int
    deferred: bool  # inside a function


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_imports(root: Path) -> list[Import]:
    """Every import of one of the package's modules, from every module under `root` (the package folder)."""
    modules = {module_name(root, p) for p in root.rglob("*.py")}
    found = []
    for path in sorted(root.rglob("*.py")):
        source = module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deferred_nodes = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                    for alias in node.names
                ]
            for target in targets:
                if target.split(".")[0] == PACKAGE and target != PACKAGE:
                    found.append(Import(source, target, node.lineno, id(node) in deferred_nodes))
    return found


def layer_of(module: str) -> tuple[int, str] | None:
    """(rank from the top, member) of a module, or None for the package's own `__init__`."""
    parts = module.split(".")
    if len(parts) < 2:
        return None
    for rank, members in enumerate(LAYERS):
        if parts[1] in members:
            return rank, parts[1]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to the package docstring")


def layering_problems(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        source, target = layer_of(imp.source), layer_of(imp.target)
        if source is None or target is None or source[1] == target[1]:
            continue
        if target[0] < source[0]:
            problems.append(f"{imp.source}:{imp.line} imports {imp.target}, a layer above it")
        elif target[0] == source[0]:
            problems.append(f"{imp.source}:{imp.line} imports {imp.target}, which its layer keeps independent")
    return problems


def deferred_problems(imports: list[Import]) -> list[str]:
    return [
        f"{imp.source}:{imp.line} imports {imp.target} inside a function; import it at the top"
        for imp in imports
        if imp.deferred and (imp.source, imp.target) not in DEFERRED_ALLOWED
    ]


def cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        graph.setdefault(imp.source, set()).add(imp.target)
        graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def check(root: Path) -> list[str]:
    imports = package_imports(root)
    found = layering_problems(imports) + deferred_problems(imports)
    found += ["import cycle: " + " <-> ".join(group) for group in cycles(imports)]
    return found


def test_the_package_has_no_cycle_and_respects_its_layers():
    assert check(REPO / "src" / PACKAGE) == []


def test_every_module_is_in_a_layer_and_every_layer_exists():
    root = REPO / "src" / PACKAGE
    members = {m for layer in LAYERS for m in layer}
    present = {p.stem if p.is_file() else p.name for p in root.iterdir() if p.suffix == ".py" or p.is_dir()}
    present -= {"__init__", "__pycache__"}
    assert present == members


def test_the_docstring_lists_the_same_layers():
    doc = (REPO / "src" / PACKAGE / "__init__.py").read_text(encoding="utf-8")
    for layer in LAYERS:
        assert "    " + " | ".join(layer) in doc


def test_the_check_fails_on_a_deliberate_cycle_and_an_upward_import(tmp_path):
    copy = tmp_path / PACKAGE
    shutil.copytree(REPO / "src" / PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    schema = copy / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + "\nfrom newscorpus.project import Project\n")
    problems = check(copy)
    assert any(
        p.startswith("newscorpus.schema:") and "imports newscorpus.project, a layer above it" in p for p in problems
    )
    assert "import cycle: newscorpus.project <-> newscorpus.schema" in problems


def test_the_check_fails_on_an_import_hidden_in_a_function(tmp_path):
    copy = tmp_path / PACKAGE
    shutil.copytree(REPO / "src" / PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    ingest = copy / "ingest.py"
    ingest.write_text(
        ingest.read_text(encoding="utf-8") + "\n\ndef later():\n    from newscorpus.files import file_sha256\n"
    )
    problems = check(copy)
    assert any("newscorpus.ingest:" in p and "inside a function" in p for p in problems)


def test_independent_members_of_a_layer_may_not_import_each_other(tmp_path):
    copy = tmp_path / PACKAGE
    shutil.copytree(REPO / "src" / PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    views = copy / "validation" / "views.py"
    views.write_text(views.read_text(encoding="utf-8") + "\nfrom newscorpus.labelstudio import regions\n")
    problems = check(copy)
    assert any("keeps independent" in p and "newscorpus.labelstudio.regions" in p for p in problems)


@pytest.mark.parametrize(
    "path", sorted((REPO / "src" / PACKAGE).rglob("*.py")), ids=lambda p: p.relative_to(REPO / "src").as_posix()
)
def test_no_module_is_over_400_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 400, f"{path.relative_to(REPO)} has {lines} lines; split it by what its parts do"
