"""Read a table's landing files with pyarrow into reference changes (no Spark, no bronze code).

Each file below ``landing/<source>/<table>/`` becomes :class:`~tests.reference.silver.Change`
rows: values as text (as bronze keeps them), ``Op`` parsed (empty means ``I``), ``commit_ts`` and
``change_seq`` parsed, full load when the file name starts with ``LOAD``. Files bronze sets aside
(not ``.parquet``/``.csv``, unreadable, no primary key column) are skipped and listed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from medallion.spec import Table
from tests.reference.silver import Change, cast_decimal, cast_timestamp


@dataclass
class Landed:
    """The changes of one table's landing folder, and the files bronze must reject."""

    changes: list[Change] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


def as_text(value: Any) -> str | None:
    """A typed parquet value as the text Spark's cast to string gives."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)  # UTC session
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{value.microsecond:06d}".rstrip("0") if value.microsecond else text
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _rows(path: Path) -> tuple[list[str], list[dict[str, Any]]] | None:
    """The columns and rows of a landing file, or None when bronze would reject it."""
    if path.suffix.lower() == ".parquet":
        try:
            content = pq.read_table(path)
        except Exception:
            return None
        return list(content.column_names), content.to_pylist()
    if path.suffix.lower() == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        if not text.strip():
            return None
        reader = csv.DictReader(io.StringIO(text))
        rows = [{k: (v if v != "" else None) for k, v in row.items()} for row in reader]
        return list(reader.fieldnames or []), rows
    return None


def read_landing(landing_dir: str | Path, table: Table) -> Landed:
    """Every change in the table's landing folder, in no particular order."""
    root = Path(landing_dir)
    landed = Landed()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        key = path.relative_to(root).as_posix()
        if any(part.startswith(("_", ".")) for part in key.split("/")):
            continue
        content = _rows(path)
        if content is None or any(k not in content[0] for k in table.primary_key):
            landed.rejected.append(key)
            continue
        rows = content[1]
        full_load = path.name.upper().startswith("LOAD")
        for index, row in enumerate(rows):
            op = (as_text(row.get("Op")) or "").strip(" ").upper() or "I"
            raw_ts = as_text(row.get("commit_ts"))
            raw_seq = as_text(row.get("change_seq"))
            commit_ts = row.get("commit_ts")
            if not isinstance(commit_ts, datetime):
                commit_ts = None if raw_ts is None else cast_timestamp(raw_ts.strip())
            elif commit_ts.tzinfo is not None:
                commit_ts = commit_ts.astimezone(UTC).replace(tzinfo=None)
            landed.changes.append(
                Change(
                    file_key=key,
                    row=index,
                    values={c: as_text(row.get(c)) for c in table.column_names},
                    op=op,
                    commit_ts=commit_ts,
                    change_seq=None if raw_seq is None else cast_decimal(raw_seq.strip(), 38, 0),
                    full_load=full_load,
                    raw_commit_ts=raw_ts,
                    raw_change_seq=raw_seq,
                )
            )
    return landed
