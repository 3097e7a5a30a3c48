"""Build the ``medallion`` wheel reproducibly: the same sources give the same bytes.

The wheel is written directly with :mod:`zipfile` (no build backend, no subprocess): files in
sorted order, a fixed timestamp and fixed permissions, metadata read from ``pyproject.toml``.
Its SHA-256 keys the upload, so an unchanged package leaves the stack unchanged and a changed
one moves every job to the new object.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The zip epoch: timestamps carry no information about when the wheel was built.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16
PACKAGE = "medallion"
#: Where the Glue script lives inside the package (uploaded next to the wheel).
GLUE_SCRIPT = Path(PACKAGE, "jobs", "glue_entry.py")
ARTIFACT_PREFIX = "artifacts/medallion"
WHEEL_FILE = (
    b"Wheel-Version: 1.0\nGenerator: medallion-infra\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
)


@dataclass(frozen=True)
class BuiltWheel:
    """A wheel on disk with its content hash and its keys in the artifacts bucket."""

    path: Path
    sha256: str
    script_path: Path

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def key(self) -> str:
        """``artifacts/medallion/<sha256>/<wheel file>``."""
        return f"{ARTIFACT_PREFIX}/{self.sha256}/{self.filename}"

    @property
    def script_key(self) -> str:
        """The Glue script, under the same content hash as the wheel that contains it."""
        return f"{ARTIFACT_PREFIX}/{self.sha256}/{self.script_path.name}"


def build_wheel(project_root: Path, out_dir: Path) -> BuiltWheel:
    """Write ``<out_dir>/<sha256>/<name>-<version>-py3-none-any.whl`` for ``project_root``.

    The folder is the content hash, so a written wheel never changes under a reader.
    """
    project = _project_table(project_root)
    data = wheel_bytes(project_root)
    digest = hashlib.sha256(data).hexdigest()
    path = out_dir / digest / f"{_normalize(project['name'])}-{project['version']}-py3-none-any.whl"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename: a concurrent reader never sees half a wheel.
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
    return BuiltWheel(path=path, sha256=digest, script_path=project_root / GLUE_SCRIPT)


def wheel_bytes(project_root: Path) -> bytes:
    """The wheel's bytes: a function of the package sources and ``pyproject.toml`` only."""
    pyproject = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    dist_info = f"{_normalize(project['name'])}-{project['version']}.dist-info"
    package_data = (
        pyproject.get("tool", {}).get("setuptools", {}).get("package-data", {}).get(PACKAGE, [])
    )
    files = {
        path.relative_to(project_root).as_posix(): path.read_bytes()
        for path in _package_files(project_root / PACKAGE, package_data)
    }
    files[f"{dist_info}/METADATA"] = _metadata(project).encode()
    files[f"{dist_info}/WHEEL"] = WHEEL_FILE
    scripts = project.get("scripts", {})
    if scripts:
        lines = ["[console_scripts]", *(f"{k} = {v}" for k, v in sorted(scripts.items()))]
        files[f"{dist_info}/entry_points.txt"] = ("\n".join(lines) + "\n").encode()
    files[f"{dist_info}/top_level.txt"] = f"{PACKAGE}\n".encode()
    record_name = f"{dist_info}/RECORD"
    record = [
        f"{name},sha256={_b64_digest(data)},{len(data)}" for name, data in sorted(files.items())
    ]
    files[record_name] = ("\n".join([*record, f"{record_name},,"]) + "\n").encode()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        # dist-info last, RECORD at the very end, as installers expect.
        for name in sorted(files, key=lambda n: (n.startswith(dist_info), n == record_name, n)):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def _package_files(package_dir: Path, package_data: list[str]) -> list[Path]:
    """Python sources plus declared package data; caches and compiled files never count."""
    found = []
    for path in sorted(package_dir.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(package_dir).as_posix()
        if path.suffix == ".py" or any(fnmatch.fnmatch(relative, p) for p in package_data):
            found.append(path)
    return found


def _metadata(project: dict[str, Any]) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    license_text = project.get("license", {}).get("text")
    if license_text:
        lines.append(f"License: {license_text}")
    lines += [f"Requires-Dist: {req}" for req in project.get("dependencies", [])]
    for extra, requirements in sorted(project.get("optional-dependencies", {}).items()):
        lines.append(f"Provides-Extra: {extra}")
        lines += [f"Requires-Dist: {_with_extra(req, extra)}" for req in requirements]
    return "\n".join(lines) + "\n"


def _with_extra(requirement: str, extra: str) -> str:
    spec, _, marker = requirement.partition(";")
    condition = f'extra == "{extra}"'
    if marker.strip():
        condition = f"({marker.strip()}) and {condition}"
    return f"{spec.strip()}; {condition}"


def _project_table(project_root: Path) -> dict[str, Any]:
    data = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    project: dict[str, Any] = data["project"]
    return project


def _normalize(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def _b64_digest(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
