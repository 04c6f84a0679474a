"""The package's shape: no import cycles, a small root, layers that only look down.

Read from the source with ``ast``, not from ``sys.modules``, so that every
import counts: at module level, inside functions (lazy imports) and under
``if TYPE_CHECKING:``. A lazy import hides a cycle from the interpreter,
not from the next engineer.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "pytest_stexcel_privacy"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE
MAX_ROOT_MODULES = 12

# The flow, lowest layer first: a module imports only from its own layer or
# layers to its left. A layer is a subpackage or a module of the root.
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        "errors clauses",
        "people",
        "findings",
        "settings profiles",
        "observe",
        "contract",
        "scan",
        "harness",
        "checks",
        "report",
        "plugin options cli __init__ __main__ strategies django",
    )
)

# Upward imports still to be removed: (importer, imported) -> why it is still here.
# Each goes when the branch fixing it lands: a fixed one left here fails the test.
# The cycle test leaves these edges out too, so each reason says if it closes a cycle.
KNOWN_LAYER_VIOLATIONS: dict[tuple[str, str], str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """Every package module that ``name`` imports explicitly, wherever the import is.

    ``from .x import y`` is the module ``x.y`` when that is a module, else
    ``x``; the packages an import passes through are not counted.
    """
    own_package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _nearest_module(alias.name, modules)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = own_package.rsplit(".", node.level - 1)[0] if node.level > 1 else own_package
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield from _nearest_module(submodule if submodule in modules else base, modules)


def _nearest_module(dotted: str, modules: dict[str, Path]) -> Iterator[str]:
    """The module itself, or the package holding a name that is not a module."""
    while dotted and dotted not in modules:
        dotted = dotted.rpartition(".")[0]
    if dotted:
        yield dotted


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    return {name: set(imported_modules(name, path, modules)) for name, path in modules.items()}


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest import path from ``start`` back to itself, if there is one."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for imported in sorted(graph[current]):
            if imported == start:
                path = [current]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if imported not in came_from:
                came_from[imported] = current
                queue.append(imported)
    return None


def layer_of(module: str) -> int:
    top = module.removeprefix(PACKAGE).lstrip(".").partition(".")[0] or "__init__"
    for rank, layer in enumerate(LAYERS):
        if top in layer:
            return rank
    raise AssertionError(f"{module} belongs to no layer: add {top!r} to LAYERS")


def layer_violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {
        (importer, imported)
        for importer, imports in graph.items()
        for imported in imports
        if layer_of(imported) > layer_of(importer)
    }


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    for importer, imported in KNOWN_LAYER_VIOLATIONS:
        graph[importer].discard(imported)
    cycles: dict[frozenset[str], list[str]] = {}
    for module in sorted(graph):
        cycle = cycle_through(graph, module)
        if cycle is not None:
            cycles.setdefault(frozenset(cycle), cycle)
    assert not cycles, "import cycles:\n" + "\n".join(
        " -> ".join(cycle) for cycle in cycles.values()
    )


def test_the_package_root_stays_small() -> None:
    root = sorted(path.name for path in SOURCE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root


def test_lower_layers_never_import_upper_ones() -> None:
    violations = layer_violations(import_graph()) - KNOWN_LAYER_VIOLATIONS.keys()
    assert not violations, "upward imports:\n" + "\n".join(
        f"{importer} imports {imported}" for importer, imported in sorted(violations)
    )


def test_every_known_layer_violation_still_exists() -> None:
    """A fixed violation leaves the allow-list, so that it cannot come back unnoticed."""
    stale = KNOWN_LAYER_VIOLATIONS.keys() - layer_violations(import_graph())
    assert not stale, f"remove from KNOWN_LAYER_VIOLATIONS: {sorted(stale)}"
