"""Landing files as AWS DMS writes them to S3: typed parquet, or CSV with a header row.

Columns: ``Op`` (CDC only), ``commit_ts``, ``change_seq`` (sources that carry it), then the
table's declared columns, then any new upstream column. A parquet file holding a value that
does not cast gets that column as strings, as DMS does when a source column changes type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from medallion.generate import clock
from medallion.generate.engine import ChangeBatch, TableSim
from medallion.generate.values import Arr
from medallion.spec import CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, OP_COLUMN, Table

#: DMS splits a full load into several files; so do we, at this many rows.
LOAD_FILE_ROWS = 500_000
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_INTEGERS = {"bigint": pa.int64(), "int": pa.int32(), "smallint": pa.int16()}
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_CSV_UNSAFE = r"[,\"\r\n]"


@dataclass
class LandingFile:
    """One file for one table's landing folder; ``key`` is its path below that folder."""

    table: str
    key: str
    data: bytes
    rows: int
    ops: dict[str, int]
    #: Manifest entries for tagged rows: (row position, kind, primary key, rule, op).
    tagged: list[tuple[int, str, int | None, str | None, str]] = field(default_factory=list)
    columns: tuple[str, ...] = ()


def arrow_type(declared: str) -> pa.DataType:
    """The parquet (arrow) type DMS writes for a declared Spark SQL type."""
    if declared in _INTEGERS:
        return _INTEGERS[declared]
    if match := _DECIMAL.match(declared):
        return pa.decimal128(int(match[1]), int(match[2]))
    simple = {
        "string": pa.string(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": _TIMESTAMP,
        "double": pa.float64(),
        "float": pa.float32(),
    }
    return simple[declared]


def _decimal(scaled: Arr, scale: int) -> pa.Array:
    """Integers scaled by 10**scale as an exact decimal128 array."""
    words = np.empty((len(scaled), 2), dtype=np.int64)
    words[:, 0] = scaled
    words[:, 1] = np.where(scaled < 0, -1, 0)
    buffer = pa.py_buffer(words.tobytes())
    return pa.Array.from_buffers(pa.decimal128(38, scale), len(scaled), [None, buffer])


def to_arrow(values: Arr, kind: str, declared: str, nulls: Arr | None = None) -> pa.Array:
    """A state column (``kind`` as in :class:`TableSim`) as an arrow array of ``declared``."""
    target = arrow_type(declared)
    array: pa.Array
    if kind.startswith("dec"):
        array = _decimal(values.astype(np.int64), int(kind[3:])).cast(target)
    elif kind == "ts":
        array = pa.array(values.astype(np.int64), type=_TIMESTAMP)
    elif kind == "date":
        array = pa.array(values.astype(np.int32)).cast(pa.date32())
    elif kind == "str":
        array = pa.array(values, type=pa.string())
    else:
        array = pa.array(values).cast(target)
    if nulls is not None and nulls.any():
        array = pc.if_else(pa.array(nulls), pa.scalar(None, type=array.type), array)
    return array


def to_text(array: pa.Array) -> pa.Array:
    """Values as DMS writes them in CSV; timestamps as ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    if pa.types.is_timestamp(array.type):
        return pc.strftime(array, "%Y-%m-%d %H:%M:%S")
    return array.cast(pa.string())


def _present(values: Arr) -> Arr:
    """Which entries of an object array are not ``None``."""
    return np.array([value is not None for value in values], dtype=bool)


def _key_column(table: TableSim, keys: Arr) -> pa.Array:
    return pa.array(keys, type=pa.int64(), mask=keys <= 0)


def full_load_files(
    table: TableSim, spec: Table, keys: Arr, cols: dict[str, Arr]
) -> list[LandingFile]:
    """Batch 0: ``LOAD00000001.<ext>``, ... (no ``Op`` column) in key order."""
    files = []
    starts = range(0, max(len(keys), 1), LOAD_FILE_ROWS)
    for number, start in enumerate(starts, start=1):
        part = slice(start, start + LOAD_FILE_ROWS)
        count = len(keys[part])
        arrays: dict[str, pa.Array] = {
            COMMIT_TS_COLUMN: pa.array(np.full(count, clock.LOAD_AT), type=_TIMESTAMP)
        }
        if table.file_format == "parquet":
            arrays[CHANGE_SEQ_COLUMN] = pa.nulls(count, type=pa.string())
        arrays.update(
            declared_arrays(table, spec, keys[part], {c: v[part] for c, v in cols.items()})
        )
        data = _serialize(table, pa.table(arrays))
        key = clock.load_file_key(number, table.file_format)
        files.append(LandingFile(table.name, key, data, count, {"I": count}, columns=tuple(arrays)))
    return files


def declared_arrays(
    table: TableSim, spec: Table, keys: Arr, cols: dict[str, Arr], nulls: Arr | None = None
) -> dict[str, pa.Array]:
    arrays = {}
    for column in spec.columns:
        if column.name == table.key:
            arrays[column.name] = _key_column(table, keys).cast(arrow_type(column.type))
        else:
            kind = table.columns[column.name]
            arrays[column.name] = to_arrow(cols[column.name], kind, column.type, nulls)
    return arrays


def cdc_file(
    table: TableSim, spec: Table, changes: ChangeBatch, batch: int, key: str
) -> LandingFile:
    """One CDC file from changes already in file order."""
    meta = changes.meta
    nulls = meta["key_only"]
    arrays: dict[str, pa.Array] = {
        OP_COLUMN: pa.array(meta["op"], type=pa.string()),
        COMMIT_TS_COLUMN: pa.array(meta["time"], type=_TIMESTAMP),
    }
    if table.file_format == "parquet":
        arrays[CHANGE_SEQ_COLUMN] = pa.array(meta["seq"], type=pa.string())
    arrays.update(declared_arrays(table, spec, meta["key"], changes.cols, nulls))
    if table.extra and batch >= table.extra[1]:
        name = table.extra[0]
        arrays[name] = to_arrow(changes.cols[name], "str", "string", nulls)
    bad = np.nonzero(_present(meta["bad_text"]))[0]
    if len(bad):
        column = table.uncastable[0]
        text = to_text(arrays[column]).to_numpy(zero_copy_only=False).astype(object)
        text[bad] = meta["bad_text"][bad]
        arrays[column] = pa.array(text, type=pa.string())
    ops: dict[str, int] = {}
    for op in meta["op"]:
        ops[op] = ops.get(op, 0) + 1
    tagged = [
        (
            int(row),
            str(meta["kind"][row]),
            int(meta["key"][row]) if meta["key"][row] > 0 else None,
            meta["rule"][row],
            str(meta["op"][row]),
        )
        for row in np.nonzero(_present(meta["kind"]))[0]
    ]
    data = _serialize(table, pa.table(arrays))
    return LandingFile(table.name, key, data, len(changes), ops, tagged, tuple(arrays))


def _serialize(table: TableSim, content: pa.Table) -> bytes:
    if table.file_format == "csv":
        return csv_bytes(content)
    sink = pa.BufferOutputStream()
    pq.write_table(content, sink, compression="snappy")
    return bytes(sink.getvalue().to_pybytes())


def csv_bytes(content: pa.Table) -> bytes:
    """A header row, then one comma-separated line per row; an empty field is NULL.

    The simulator never makes values that would need quoting (or empty strings, which would
    read back as NULL); it refuses rather than write an ambiguous file.
    """
    texts = [to_text(column.combine_chunks()) for column in content.columns]
    for name, text in zip(content.column_names, texts, strict=True):
        unsafe: Any = pc.any(pc.match_substring_regex(text, _CSV_UNSAFE))
        empty: Any = pc.any(pc.equal(text, ""))
        if unsafe.as_py() or empty.as_py():
            raise ValueError(f"column {name!r} holds a value CSV cannot carry unquoted")
    lines = pc.binary_join_element_wise(*texts, ",", null_handling="replace").to_pylist()
    return "".join(f"{line}\n" for line in [",".join(content.column_names), *lines]).encode()
