"""Infer tables from the schemas of landed files (``landing/<source>/<table>/**``)."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

import pyarrow.parquet as pq

from medallion.infer.model import FoundColumn, FoundTable, naming_problems
from medallion.infer.types import Mapped, from_arrow, widens

#: Columns DMS adds to every file: recognised, never declared (docs/contract.md#landing).
DMS_COLUMNS = ("Op", "commit_ts", "change_seq")
SUFFIXES = (".parquet", ".csv")


def source_folder(landing: Path, source: str) -> Path:
    """``landing/<source>``; the source folder itself is accepted too."""
    if (landing / source).is_dir():
        return landing / source
    if landing.name == source and landing.is_dir():
        return landing
    raise ValueError(
        f"{landing}: no folder {source!r} of landed files (expected {landing / source})"
    )


def read_landing(
    landing: Path, source: str, primary_keys: Mapping[str, tuple[str, ...]] | None = None
) -> list[FoundTable]:
    """One table per folder below ``landing/<source>``, its columns the union of its files'.

    Parquet gives the types; CSV has none, so its columns are declared ``string`` with a note.
    Without ``primary_keys[table]`` a table has a problem and is written ``incomplete``.
    """
    folder = source_folder(landing, source)
    keys = dict(primary_keys or {})
    tables = []
    for table_dir in sorted(
        p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_")
    ):
        files = sorted(
            p for p in table_dir.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
        )
        if files:
            tables.append(_table(table_dir.name, source, files, keys.pop(table_dir.name, ())))
    if keys:
        raise ValueError(f"--primary-key names tables with no landed files: {sorted(keys)}")
    return tables


def _table(name: str, source: str, files: list[Path], key: tuple[str, ...]) -> FoundTable:
    found: dict[str, Mapped] = {}
    problems: list[str] = []
    for path in files:
        for column, mapped in _file_columns(path):
            if column in DMS_COLUMNS:
                continue
            known = found.get(column)
            if known is None or widens(known.type, mapped.type):
                found[column] = mapped
            elif not widens(mapped.type, known.type):
                found[column] = Mapped("string", f"files disagree: {known.type} and {mapped.type}")
                problems.append(
                    f"{path}: column {column!r} is {mapped.type}, other files "
                    f"have {known.type}; declared string"
                )
    columns = tuple(FoundColumn(c, m.type, note=m.note) for c, m in found.items())
    problems += naming_problems(name, list(found))
    unknown = [k for k in key if k not in found]
    if unknown:
        raise ValueError(
            f"--primary-key {name}: no landed file of {name!r} has column(s) {unknown}"
        )
    if not key:
        problems.append(
            f"no primary key found in the landing files; pass --primary-key {name}=COLUMN"
        )
    return FoundTable(name, source, columns, key, problems=tuple(problems))


def _file_columns(path: Path) -> list[tuple[str, Mapped]]:
    if path.suffix.lower() == ".parquet":
        try:
            schema = pq.read_schema(path)
        except Exception as error:
            raise ValueError(f"{path}: unreadable parquet file: {error}") from error
        return [(field.name, from_arrow(field.type)) for field in schema]
    with path.open(newline="") as handle:
        header = next(csv.reader(handle), [])
    note = "CSV has no types: declared string; set the type by hand"
    return [(name, Mapped("string", note)) for name in header]
