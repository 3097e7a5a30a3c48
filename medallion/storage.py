"""File operations on the landing zone, local or on S3 (through pyarrow's filesystems).

Spark reads and writes the tables; this module only lists, checks and moves landing files.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from pyarrow import fs as pafs

from medallion.layout import is_remote

if TYPE_CHECKING:
    from medallion.spec import Domain

#: A domain shipped as one file (what the stack uploads) rather than a folder.
ZIP_SUFFIX = ".zip"


@dataclass(frozen=True)
class FileEntry:
    """A landing file: its URI, its path relative to the folder listed, its size and its
    modification time (nanoseconds since the epoch; None when the store gives none)."""

    uri: str
    key: str
    size: int
    modified_ns: int | None = None


def s3_endpoint() -> str | None:
    """The S3 endpoint to use instead of AWS's (a local S3 such as a moto server), if any."""
    return os.environ.get("MEDALLION_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """The pyarrow filesystem for ``uri`` and the path to give it."""
    if not is_remote(uri):
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a"):
        raise ValueError(f"unsupported storage scheme in {uri!r}: use a local path or s3://")
    endpoint = s3_endpoint()
    options: dict[str, object] = {
        "region": os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    }
    if endpoint:
        target = urlparse(endpoint)
        options.update(endpoint_override=target.netloc, scheme=target.scheme or "http")
    return pafs.S3FileSystem(**options), f"{parsed.netloc}{parsed.path}"


def _uri_of(root_uri: str, root_path: str, path: str) -> str:
    return root_uri.rstrip("/") + path[len(root_path.rstrip("/")) :]


def list_files(folder_uri: str) -> list[FileEntry]:
    """Every file below ``folder_uri``, recursively, sorted by key.

    Hidden entries (``.name``) and folders or files starting with ``_`` (such as ``_rejected``)
    are skipped, as Spark and DMS do.
    """
    fs, root = filesystem(folder_uri)
    info = fs.get_file_info(root)
    if info.type == pafs.FileType.NotFound:
        return []
    entries = []
    for item in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        if item.type != pafs.FileType.File:
            continue
        key = item.path[len(root.rstrip("/")) + 1 :]
        if any(part.startswith(("_", ".")) for part in key.split("/")):
            continue
        uri = _uri_of(folder_uri, root, item.path)
        entries.append(FileEntry(uri, key, item.size or 0, item.mtime_ns))
    return sorted(entries, key=lambda e: e.key)


def read_head(uri: str, size: int = 65536) -> bytes:
    """The first ``size`` bytes of a file."""
    fs, path = filesystem(uri)
    with fs.open_input_stream(path) as stream:
        return bytes(stream.read(size))


def digest(uri: str, chunk: int = 1 << 20) -> str:
    """``sha256:<hex>`` of a file's bytes, read in chunks."""
    fs, path = filesystem(uri)
    hasher = hashlib.sha256()
    with fs.open_input_stream(path) as stream:
        while block := stream.read(chunk):
            hasher.update(block)
    return f"sha256:{hasher.hexdigest()}"


def move(source_uri: str, target_uri: str) -> None:
    """Move a file, creating the target's folder; on S3 a copy then a delete."""
    fs, source = filesystem(source_uri)
    _, target = filesystem(target_uri)
    fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
    fs.copy_file(source, target)
    fs.delete_file(source)


def write_text(uri: str, text: str) -> None:
    """Write a small text file (creating its folder)."""
    fs, path = filesystem(uri)
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    with fs.open_output_stream(path) as stream:
        stream.write(text.encode())


def read_bytes(uri: str) -> bytes:
    """The whole content of a (small) file."""
    fs, path = filesystem(uri)
    with fs.open_input_stream(path) as stream:
        return bytes(stream.read())


def load_domain_from(uri: str) -> Domain:
    """The domain at ``uri``: a folder, or a zip of one, local or on S3.

    A remote or zipped domain is copied to a temporary folder first; messages still name
    ``uri``.
    """
    from medallion.spec import load_domain

    if not is_remote(uri) and not uri.endswith(ZIP_SUFFIX):
        return load_domain(uri)
    with tempfile.TemporaryDirectory(prefix="medallion-domain-") as tmp:
        folder = Path(tmp, "domain")
        if uri.endswith(ZIP_SUFFIX):
            with zipfile.ZipFile(io.BytesIO(read_bytes(uri))) as archive:
                archive.extractall(folder)
        else:
            entries = list_files(uri)
            if not entries:
                raise ValueError(f"{uri}: no domain there (no files below it)")
            for entry in entries:
                target = folder / entry.key
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(read_bytes(entry.uri))
        return load_domain(folder, label=uri)
