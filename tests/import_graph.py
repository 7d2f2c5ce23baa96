"""The import graph of ``award_service``, by part, and the layers it must obey.

Reads every ``.py`` file of the package with :mod:`ast`: module-level imports,
imports inside functions and ``TYPE_CHECKING`` blocks, relative imports, and
imports made by string (any string constant naming ``award_service.<part>…``,
which covers ``importlib.import_module``, ``werkzeug.utils.import_string`` and
Celery task names).  A call to ``import_module``/``import_string``/``__import__``
whose argument is not a literal cannot be read, and is reported.

Run it to see the graph (``python tests/import_graph.py``); ``tests/test_layers.py``
fails when an import points upward or parts form a cycle.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "award_service"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# Lowest first.  A part may import parts of lower layers; inside the core and
# the top layer parts may import each other as long as no cycle forms.
LAYERS: list[tuple[str, frozenset[str]]] = [
    (
        "core",
        frozenset(
            {
                "config",
                "extensions",
                "errors",
                "text",
                "timeutil",
                "i18n",
                "codes",
                "forms",
                "http",
                "actor",
                "dates",
                "parsing",
                "spreadsheets",
                "pdf",
                "states",
                "names",
                "keys",
                "telemetry",
            }
        ),
    ),
    ("audit", frozenset({"audit"})),
    ("mail", frozenset({"mail"})),
    ("districts", frozenset({"districts"})),
    ("accounts", frozenset({"accounts"})),
    ("medals", frozenset({"medals"})),
    ("ceremonies", frozenset({"ceremonies"})),
    ("nominations", frozenset({"nominations"})),
    ("awards", frozenset({"awards"})),
    ("top", frozenset({"api", "web", "cli", "worker", "demo", "models", "ops", "__init__"})),
]
LEVEL = {part: i for i, (_, parts) in enumerate(LAYERS) for part in parts}
DYNAMIC = {"import_module", "import_string", "__import__"}


@dataclass(frozen=True)
class Edge:
    source: str  # part
    target: str  # part
    module: str  # the importing module
    line: int
    how: str  # "module", "function", "string"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str | None:
    bits = module.split(".")
    if bits[0] != PACKAGE:
        return None
    if len(bits) == 1:
        return "__init__"
    name = bits[1]
    if (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file():
        return name
    if name == "create_app":  # ``from award_service import create_app``
        return "__init__"
    return None  # a string that only looks like a module (a file name, a task label)


def _function_nodes(tree: ast.AST) -> set[int]:
    inside = set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    inside.add(id(node))
    return inside


def scan() -> tuple[list[Edge], list[str], int]:
    """(edges between parts, unreadable dynamic imports, count of imports inside functions)."""
    edges: list[Edge] = []
    unreadable: list[str] = []
    in_functions = 0
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        source_part = part_of(module) or "__init__"
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        inside = _function_nodes(tree)
        for node in ast.walk(tree):
            targets: list[str] = []
            how = "function" if id(node) in inside else "module"
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                # ``from award_service import codes`` imports the part ``codes``, not the package's __init__
                names = [f"{target}.{alias.name}" for alias in node.names]
                targets = names if target == PACKAGE else [target, *names]
            elif (
                isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith(PACKAGE + ".")
            ):
                targets, how = [node.value.split(":")[0].split()[0]], "string"
            elif isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in DYNAMIC and node.args and not isinstance(node.args[0], ast.Constant):
                    unreadable.append(f"{module}:{node.lineno}")
            if isinstance(node, (ast.Import, ast.ImportFrom)) and how == "function":
                in_functions += 1
            seen = set()
            for target in targets:
                target_part = part_of(target)
                if target_part is None or target_part == source_part or target_part in seen:
                    continue
                seen.add(target_part)
                edges.append(Edge(source_part, target_part, module, getattr(node, "lineno", 0), how))
    return edges, unreadable, in_functions


def graph(edges: list[Edge]) -> dict[str, set[str]]:
    result: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        result[edge.source].add(edge.target)
    return result


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def upward(edges: list[Edge]) -> list[Edge]:
    """Imports from a part to a part of a higher layer (or of no layer)."""
    bad = []
    for edge in edges:
        source, target = LEVEL.get(edge.source), LEVEL.get(edge.target)
        if source is None or target is None or target > source:
            bad.append(edge)
    return bad


def main() -> int:
    edges, unreadable, in_functions = scan()
    g = graph(edges)
    for source in sorted(g, key=lambda p: (LEVEL.get(p, 99), p)):
        print(f"{source:12} -> {' '.join(sorted(g[source], key=lambda p: (LEVEL.get(p, 99), p)))}")
    print(f"imports inside functions: {in_functions}")
    print(f"cycles: {cycles(g) or 'none'}")
    bad = upward(edges)
    for edge in bad:
        print(f"upward: {edge.source} -> {edge.target} ({edge.module}:{edge.line}, {edge.how})")
    for where in unreadable:
        print(f"unreadable dynamic import: {where}")
    return 1 if bad or cycles(g) or unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
