"""The dependency direction: __main__ -> infra -> medallion.spec; no Spark in infra, no Pulumi
in medallion."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [("infra", {"pyspark", "delta"}), ("medallion", {"pulumi", "pulumi_aws"})],
)
def test_no_forbidden_imports(folder: str, forbidden: set[str]) -> None:
    offenders = {
        path: names & forbidden
        for path, names in imported_modules(ROOT / folder).items()
        if names & forbidden
    }
    assert not offenders, f"{folder}/ must not import {sorted(forbidden)}: {offenders}"


def test_declarations_import_without_spark() -> None:
    code = (
        "import sys, medallion, medallion.spec; "
        "assert medallion.spec.load_domain('domain').tables; "
        "assert 'pyspark' not in sys.modules, 'medallion.spec imported pyspark'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
