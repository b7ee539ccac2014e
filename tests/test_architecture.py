"""The package's import graph, read statically (AST): no cycles, the core reaches adapters only
through the target registry, and per-framework names live in adapters/ only.

Edges are ``import``/``from ... import`` statements anywhere in a module (function-level
imports included) and ``"frameworkbench.x[:name]"`` strings (worker modes, ``-m`` launches,
the target registry). ``from pkg import name`` is an edge to ``pkg.name`` when that is a module,
else to ``pkg``; the implicit import of parent packages is not an edge.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from frameworkbench.targets import TARGETS

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ((ROOT / "frameworkbench", "frameworkbench"), (ROOT / "adapters", "frameworkbench.adapters"))
ADAPTERS = "frameworkbench.adapters"
REGISTRY = "frameworkbench.targets"  # the one core module that names adapter modules
MODULE_STRING = re.compile(r"frameworkbench(\.\w+)+(:\w+)?")


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for base, pkg in PACKAGES:
        for f in sorted(base.rglob("*.py")):
            parts = [p for p in f.relative_to(base).with_suffix("").parts if p != "__init__"]
            mods[".".join([pkg, *parts])] = (f, f.name == "__init__.py")
    return mods


MODULES = _modules()


def _canonical(name: str) -> str:
    return ADAPTERS + name[len("adapters"):] if name == "adapters" or name.startswith("adapters.") else name


def _longest_module(name: str) -> str | None:
    name = _canonical(name)
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _from_targets(node: ast.ImportFrom, package: str) -> list[str]:
    if node.level:
        parts = package.split(".")
        base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = _canonical(node.module or "")
    out = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in MODULES else base)
    return out


def references(module: str) -> list[tuple[str, str]]:
    """(kind, module) for every reference of ``module`` to a package module; kind: import or string."""
    path, is_pkg = MODULES[module]
    package = module if is_pkg else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [("import", _longest_module(a.name)) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out += [("import", _longest_module(t)) for t in _from_targets(node, package)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.fullmatch(node.value):
            name = _canonical(node.value.partition(":")[0])
            out.append(("string", name if name in MODULES else None))  # not a module: "frameworkbench.db"
    return [(kind, m) for kind, m in out if m and m != module]


GRAPH = {m: {dep for _, dep in references(m)} for m in MODULES}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The cycles of ``graph``: its strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_sees_imports_strings_and_package_roots():
    """The walker itself: a function-level import, a mode string and a ``-m`` launch are edges."""
    assert "frameworkbench.execution.training" in GRAPH["frameworkbench.analysis.diagnostics"]  # in a function
    assert "frameworkbench.analysis.diagnostics" in GRAPH["frameworkbench.execution.modes"]  # "module:function"
    assert "frameworkbench.execution.worker" in GRAPH["frameworkbench.execution.launch"]  # python -m ...
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles():
    assert strongly_connected(GRAPH) == []


def test_nothing_imports_the_package_root():
    """The root's lazy attributes import api and spec; a module importing the root would close a loop."""
    assert [m for m, deps in GRAPH.items() if "frameworkbench" in deps] == []


def test_core_reaches_adapters_only_through_the_registry():
    """No core module imports an adapter module; only the target registry names them (as strings)."""
    bad = []
    for m in MODULES:
        if m == ADAPTERS or m.startswith(ADAPTERS + "."):
            continue
        for kind, dep in references(m):
            if dep.startswith(ADAPTERS) and (kind == "import" or m != REGISTRY):
                bad.append(f"{m} -> {dep} ({kind})")
    assert bad == []


FRAMEWORK_NAMES = ({t.name for t in TARGETS.values()} | {t.family for t in TARGETS.values()}
                   | {t.backend for t in TARGETS.values() if t.backend}
                   | {m for t in TARGETS.values() for m in t.modules} | {"pytorch", "tf", "keras3"})


def _names_in(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value] if node.value in FRAMEWORK_NAMES else []
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [n for e in node.elts for n in _names_in(e)]
    return []


def framework_name_checks(path: Path) -> list[str]:
    """``x == "torch"``, ``b in ("jax", "tensorflow")`` and ``{"torch": ...}`` in a module, as path:line: name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            names = [n for side in (node.left, *node.comparators) for n in _names_in(side)]
        elif isinstance(node, ast.Dict):
            names = [n for k in node.keys if k is not None for n in _names_in(k)]
        else:
            continue
        found += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names]
    return found


def test_framework_name_check_finds_comparisons_and_keys(tmp_path):
    (tmp_path / "m.py").write_text('a = b == "torch"\nc = d in ("jax", "x")\ne = {"keras:jax": 1}\nf = g == "relu"\n')
    root_file = ROOT / "tests" / "_arch_probe.py"
    root_file.write_text((tmp_path / "m.py").read_text())
    try:
        assert [f.split(": ")[1] for f in framework_name_checks(root_file)] == ["torch", "jax", "keras:jax"]
    finally:
        root_file.unlink()


# Modules that still held such checks when this test was written (their owners are moving them into
# adapters/); a finding anywhere else fails.
# The seed document's own claims about its three columns (tf.keras, Keras, PyTorch): data quoted from the
# document, keyed by its column names -- not code that branches on a framework.
DOCUMENT_DATA = ("frameworkbench/report/document/claims.py",)


def _core_framework_name_checks() -> list[str]:
    return [f for m, (path, _) in MODULES.items() if not m.startswith(ADAPTERS)
            for f in framework_name_checks(path) if not f.startswith(DOCUMENT_DATA)]


def test_no_framework_name_comparisons_outside_adapters():
    """Per-framework knowledge lives in adapters/: the core reads their declarations instead."""
    assert _core_framework_name_checks() == []


def test_every_worker_mode_names_a_function_that_exists():
    """A mode string that names no module would be no edge above, and a worker failure later."""
    from frameworkbench.execution.modes import MODES

    for name, mode in MODES.items():
        module, _, function = mode.function.partition(":")
        assert module in MODULES, name
        assert callable(mode.load()) and mode.load().__name__ == function, name
