"""The dependency direction: __main__ -> infra -> medallion.spec; no Spark in infra, no Pulumi
in medallion; only ``medallion/delta_io.py`` touches Delta's API and the JVM."""

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


#: Attributes of a SparkSession/SparkContext that reach into the JVM.
JVM_ATTRIBUTES = frozenset({"_jvm", "_jsparkSession", "_jsc"})
DELTA_IO = "medallion/delta_io.py"


def delta_or_jvm_use(folder: Path, allowed: str = DELTA_IO) -> dict[str, list[str]]:
    """Per module (but ``allowed``): where it imports ``delta`` or uses a JVM attribute."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        name = str(path.relative_to(folder.parent))
        if name == allowed:
            continue
        uses: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                uses += [f"{node.lineno}: import {a.name}" for a in node.names if _delta(a.name)]
            elif isinstance(node, ast.ImportFrom) and node.module and _delta(node.module):
                uses.append(f"{node.lineno}: from {node.module}")
            elif isinstance(node, ast.Attribute) and node.attr in JVM_ATTRIBUTES:
                uses.append(f"{node.lineno}: .{node.attr}")
        if uses:
            found[name] = uses
    return found


def _delta(module: str) -> bool:
    return module == "delta" or module.startswith("delta.")


def test_only_delta_io_touches_delta_and_the_jvm() -> None:
    offenders = delta_or_jvm_use(ROOT / "medallion")
    assert not offenders, f"only {DELTA_IO} may import delta or use {sorted(JVM_ATTRIBUTES)}: " + (
        f"{offenders}"
    )


def test_the_delta_io_check_finds_an_offender(tmp_path: Path) -> None:
    """The check above, broken once on purpose: a copy of the package with one offender."""
    package = tmp_path / "medallion"
    package.mkdir()
    (package / "delta_io.py").write_text("from delta.tables import DeltaTable\n")
    (package / "clean.py").write_text("import deltalake\nfrom medallion import delta_io\n")
    (package / "sneaky.py").write_text(
        "import delta\n\ndef f(spark):\n    return spark.sparkContext._jvm\n"
    )
    assert delta_or_jvm_use(package) == {"medallion/sneaky.py": ["1: import delta", "4: ._jvm"]}


def imported_test_modules(folder: Path) -> dict[str, list[str]]:
    """Per module below ``folder``: the test modules (``test_*``) it imports."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.rsplit(".", 1)[-1].startswith("test_"):
                found.setdefault(str(path.relative_to(folder.parent)), []).append(module)
    return found


def test_tests_share_data_through_support_modules_not_other_tests() -> None:
    assert imported_test_modules(ROOT / "tests") == {}


def test_the_test_import_check_finds_an_offender(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_b.py").write_text("from tests.test_a import ROWS\n")
    assert imported_test_modules(tmp_path / "tests") == {"tests/test_b.py": ["tests.test_a"]}
