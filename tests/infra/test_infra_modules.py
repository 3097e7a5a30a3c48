"""The shape of ``infra/``: its modules import each other without a cycle.

Every import counts, those under ``TYPE_CHECKING`` and inside functions too: a cycle hidden
there is still a cycle a reader has to untangle.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

from stackrun import ROOT

INFRA = ROOT / "infra"


def imports_of(path: Path) -> set[str]:
    """The ``infra`` modules one module imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "infra":  # from infra import policies
                found |= {f"infra.{alias.name}" for alias in node.names}
            elif node.module.startswith("infra."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("infra.")}
    modules = {f"infra.{p.stem}" for p in INFRA.glob("*.py") if p.stem != "__init__"}
    return found & modules


def test_infra_modules_import_without_a_cycle() -> None:
    graph = {
        f"infra.{path.stem}": imports_of(path)
        for path in sorted(INFRA.glob("*.py"))
        if path.stem != "__init__"
    }
    assert {"infra.config", "infra.delivery", "infra.naming"} <= set(graph)
    order = list(graphlib.TopologicalSorter(graph).static_order())  # CycleError on a cycle
    assert set(order) == set(graph)
