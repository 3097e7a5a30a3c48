"""The wheel the program uploads: installable, reproducible, keyed by its content."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from stackrun import ROOT

from infra.wheel import ARTIFACT_PREFIX, build_wheel, wheel_bytes


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the package sources and pyproject.toml that a test may change."""
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    shutil.copytree(
        ROOT / "medallion", copy / "medallion", ignore=shutil.ignore_patterns("__pycache__")
    )
    return copy


def test_same_source_gives_the_same_bytes(project: Path, tmp_path: Path) -> None:
    first = build_wheel(project, tmp_path / "a")
    second = build_wheel(project, tmp_path / "b")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.key == second.key == f"{ARTIFACT_PREFIX}/{first.sha256}/{first.filename}"
    assert first.script_key == f"{ARTIFACT_PREFIX}/{first.sha256}/glue_entry.py"


def test_key_ignores_timestamps_and_caches(project: Path) -> None:
    before = wheel_bytes(project)
    module = project / "medallion" / "layout.py"
    os.utime(module, (0, 1_000_000_000))
    (project / "medallion" / "__pycache__").mkdir(exist_ok=True)
    (project / "medallion" / "__pycache__" / "layout.cpython-311.pyc").write_bytes(b"\0" * 8)
    assert wheel_bytes(project) == before


def test_key_changes_when_the_package_changes(project: Path, tmp_path: Path) -> None:
    before = build_wheel(project, tmp_path / "out")
    module = project / "medallion" / "layout.py"
    module.write_text(module.read_text() + "\n# a change\n")
    after = build_wheel(project, tmp_path / "out")
    assert after.key != before.key
    assert before.path.exists() and after.path.exists()  # each build in its own hash folder


def test_key_changes_when_the_version_changes(project: Path) -> None:
    before = wheel_bytes(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.1.1"'))
    assert wheel_bytes(project) != before


def test_wheel_holds_the_package_and_valid_metadata(tmp_path: Path) -> None:
    wheel = build_wheel(ROOT, tmp_path)
    with zipfile.ZipFile(wheel.path) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        metadata = archive.read("medallion-0.1.0.dist-info/METADATA").decode()
    assert "medallion/__init__.py" in names and "medallion/py.typed" in names
    assert "medallion/jobs/glue_entry.py" in names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]
    assert not [n for n in names if n.startswith(("tests/", "infra/"))]
    assert names[-1] == "medallion-0.1.0.dist-info/RECORD"
    assert "Name: medallion\nVersion: 0.1.0\n" in metadata
    assert 'Requires-Dist: pyspark==3.5.6; extra == "spark"' in metadata


def test_wheel_installs_with_pip_and_imports(tmp_path: Path) -> None:
    wheel = build_wheel(ROOT, tmp_path / "dist")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-index",
         "--no-compile", "--target", str(target), str(wheel.path)],
        check=True,
    )  # fmt: skip
    assert (target / "medallion-0.1.0.dist-info" / "RECORD").exists()
    probe = subprocess.run(
        [sys.executable, "-S", "-c",
         "import sys; sys.path.insert(0, sys.argv[1]); import medallion, medallion.spec; "
         "print(medallion.__file__, medallion.__version__)", str(target)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    location, version = probe.stdout.split()
    assert Path(location).is_relative_to(target)
    assert version == "0.1.0"
