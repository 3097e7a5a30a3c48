"""The domain folder as a deployable artifact: one reproducible zip, keyed by its content hash.

The Glue jobs load their declarations from it at start (``--domain-root``). The same files
give the same bytes (sorted entries, fixed timestamps and permissions), so an unchanged domain
leaves the stack unchanged, and a changed declaration moves every job to a new object.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from infra.wheel import ARTIFACT_PREFIX, FILE_MODE, FIXED_DATE_TIME

#: The folders of a domain that the jobs read.
DOMAIN_FOLDERS = ("tables", "models")
ARCHIVE_NAME = "domain.zip"


@dataclass(frozen=True)
class DomainArchive:
    """A zipped domain on disk with its content hash and its key in the artifacts bucket."""

    path: Path
    sha256: str

    @property
    def key(self) -> str:
        """``artifacts/medallion/<sha256>/domain.zip`` (readable by every job's role)."""
        return f"{ARTIFACT_PREFIX}/{self.sha256}/{ARCHIVE_NAME}"


def domain_files(folder: Path) -> dict[str, bytes]:
    """``tables/…`` and ``models/…`` files by relative path; hidden files are left out."""
    files = {}
    for sub in DOMAIN_FOLDERS:
        for path in sorted((folder / sub).rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not any(p.startswith((".", "_")) for p in relative.parts):
                files[relative.as_posix()] = path.read_bytes()
    return files


def archive_bytes(folder: Path) -> bytes:
    """The zip of ``folder``'s declarations: a function of their paths and contents only."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(domain_files(folder).items()):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def build_domain_archive(folder: Path, out_dir: Path) -> DomainArchive:
    """Write ``<out_dir>/<sha256>/domain.zip`` for the domain in ``folder``."""
    data = archive_bytes(folder)
    digest = hashlib.sha256(data).hexdigest()
    path = out_dir / digest / ARCHIVE_NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, path)
    return DomainArchive(path=path, sha256=digest)
