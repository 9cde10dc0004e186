"""The house rules, checked on the source: no import loop, wildbench on wildworld's public API,
no CLI library in the libraries. Imports are read with ``ast``, function-local ones included
(a loop hidden inside a function is still a loop)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"wildworld": ROOT / "wildworld", "wildbench": ROOT / "wildbench", "wildworld_cli": ROOT / "cli" / "wildworld_cli"}



def _modules() -> dict[str, Path]:
    modules = {}
    for package, directory in PACKAGES.items():
        for file in directory.rglob("*.py"):
            parts = [package, *file.relative_to(directory).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = file
    return modules


MODULES = _modules()


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """``(imported module, imported name or None, line)`` of every import statement anywhere in
    a module (``from a import b`` where ``a.b`` is a module imports ``a.b``)."""
    file = MODULES[module]
    package = module if file.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.append((sub, None, node.lineno) if sub in MODULES else (source, alias.name, node.lineno))
    return found


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _graph() -> dict[str, set[str]]:
    """Module -> the modules importing it runs: the target and, before it, every package on
    the way to it that is not one of the importer's own (those are already initialising)."""
    graph = {}
    for module in MODULES:
        edges = set()
        for name, _, _ in _imports(module):
            if name in MODULES:
                edges |= {p for p in _ancestors(name) if p in MODULES and p not in _ancestors(module)} | {name}
        graph[module] = edges - {module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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


def test_the_graph_sees_function_local_imports_and_package_inits():
    graph = _graph()
    assert "wildworld.store.validate" in graph["wildworld.validate"]  # validate_path dispatches to it
    assert "wildworld.data" in graph["wildworld"]  # named under TYPE_CHECKING, imported by __getattr__
    # importing wildworld.store.layout first runs wildworld/store/__init__.py
    assert {"wildworld.store", "wildworld.store.layout"} <= graph["wildworld.classify"]
    assert "wildworld" not in graph["wildworld.store.manifest"]  # its own package is already initialising
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_loop_anywhere():
    assert _cycles(_graph()) == []


def _private(module: str, name: str | None) -> bool:
    return any(part.startswith("_") for part in module.split(".")) or (name is not None and name.startswith("_"))


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("wildbench")))
def test_wildbench_uses_only_the_public_api_of_wildworld(module):
    private = [f"line {line}: {name or source}" if name is None else f"line {line}: {source}.{name}"
               for source, name, line in _imports(module)
               if source.split(".")[0] == "wildworld" and _private(source, name)]
    assert private == []


def test_the_private_import_check_would_catch_one():
    assert _private("wildworld._atomic", "atomic_path") and _private("wildworld.store", "_group")
    assert not _private("wildworld.files", "atomic_path")


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith("wildworld_cli")))
def test_the_libraries_never_import_the_cli_stack(module):
    assert not [source for source, _, _ in _imports(module) if source.split(".")[0] in ("typer", "rich", "wildworld_cli")]


@pytest.mark.parametrize("package", ["wildworld", "wildbench"])
def test_the_package_exports_every_public_name_lazily_and_each_resolves(package):
    module = importlib.import_module(package)
    assert set(module._SOURCES) == set(module.__all__)
    assert all(getattr(module, name) is not None for name in module.__all__)
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        module.not_a_name


def test_every_cli_call_starts_without_the_heavy_libraries():
    """Each CLI call imports both packages' errors; a lazy package init keeps that from loading
    pandas, scipy, zarr or torch (most of a second per call before)."""
    code = ("import sys, wildworld.errors, wildbench.errors, wildworld_cli._common; "
            "print(' '.join(m for m in ('pandas', 'scipy', 'zarr', 'torch', 'pyarrow', 'av') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
