"""The parts of award_service import only downwards (ARCHITECTURE.md), with no
cycle: module-level imports, imports inside functions and imports by string
(importlib, import_string, Celery task names) alike."""

from __future__ import annotations

import textwrap

from . import import_graph
from .import_graph import LAYERS, Edge, cycles, graph, part_of, scan, upward


def test_no_import_points_upward():
    edges, _, _ = scan()
    bad = [f"{e.source} -> {e.target} ({e.module}:{e.line}, {e.how})" for e in upward(edges)]
    assert bad == [], "imports against the layers of ARCHITECTURE.md:\n" + "\n".join(bad)


def test_no_cycle_between_parts():
    edges, _, _ = scan()
    assert cycles(graph(edges)) == []


def test_every_import_can_be_read():
    _, unreadable, _ = scan()
    assert unreadable == [], f"imports by a computed name cannot be checked: {unreadable}"


def test_every_part_has_a_layer():
    on_disk = {
        p.stem if p.suffix == ".py" else p.name
        for p in import_graph.ROOT.iterdir()
        if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    }
    layered = set().union(*(parts for _, parts in LAYERS))
    assert on_disk - layered == set(), "add the new part to LAYERS in tests/import_graph.py and ARCHITECTURE.md"


def test_the_checker_sees_what_it_must(tmp_path, monkeypatch):
    """An upward import inside a function, a cycle, and an import by string are
    all caught (the checker itself can fail)."""
    package = tmp_path / "award_service"
    for part in ("audit", "awards"):
        (package / part).mkdir(parents=True)
        (package / part / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "audit" / "log.py").write_text(
        textwrap.dedent("""
        def record():
            from ..awards import service  # upward, hidden in a function
            return service
    """)
    )
    (package / "awards" / "service.py").write_text(
        textwrap.dedent("""
        import importlib
        from ..audit import log
        TASK = "award_service.audit.log.record"
        def load(name):
            return importlib.import_module(name)
    """)
    )
    monkeypatch.setattr(import_graph, "ROOT", package)
    edges, unreadable, in_functions = scan()
    assert Edge("audit", "awards", "award_service.audit.log", 3, "function") in edges
    assert any(e.source == "awards" and e.target == "audit" and e.how == "string" for e in edges)
    assert [f"{e.source}->{e.target}" for e in upward(edges)] == ["audit->awards"]
    assert cycles(graph(edges)) == [["audit", "awards"]]
    assert unreadable == ["award_service.awards.service:6"]
    assert in_functions == 1
    assert part_of("award_service.sqlite3") is None  # a file name, not a module
