"""Landing files as bronze sees them: checked cheaply, read as strings, or set aside.

A file that cannot be ingested (not parquet or CSV, unreadable, no primary key column) is moved
to ``landing/_rejected/`` beside a note of the reason, so it never stops the other files and
never vanishes silently (docs/contract.md#landing).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from medallion import storage
from medallion.layout import Lakehouse
from medallion.spec import DMS_COLUMNS, Table
from medallion.spec.contract import CORRUPT_RECORD

log = logging.getLogger(__name__)

SUFFIXES = (".parquet", ".csv")


class MalformedFile(ValueError):
    """A landing file that cannot be ingested; the message says why."""


@dataclass(frozen=True)
class CheckedFile:
    """A new landing file that passed :func:`inspect`, with the column names it holds."""

    uri: str
    key: str
    format: str
    columns: tuple[str, ...]
    #: Files with the same signature can be read by Spark in one scan.
    signature: str


def inspect(uri: str, key: str, table: Table) -> CheckedFile:
    """Check a landing file cheaply (parquet footer, CSV header) or raise MalformedFile."""
    name = key.rsplit("/", 1)[-1].lower()
    if not name.endswith(SUFFIXES):
        raise MalformedFile("not a .parquet or .csv file")
    fmt = "parquet" if name.endswith(".parquet") else "csv"
    if fmt == "parquet":
        fs, path = storage.filesystem(uri)
        try:
            with fs.open_input_file(path) as handle:
                schema = pq.read_schema(handle)
        except Exception as error:  # pyarrow raises several types for a broken footer
            raise MalformedFile(f"unreadable parquet: {error}") from error
        columns = tuple(schema.names)
        signature = "parquet:" + str(schema.remove_metadata())
    else:
        head = storage.read_head(uri)
        if not head.strip():
            raise MalformedFile("empty file (no CSV header)")
        try:
            header = head.splitlines()[0].decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise MalformedFile("CSV header is not UTF-8 text") from error
        columns = tuple(c.strip().strip('"') for c in header.split(","))
        signature = "csv:" + ",".join(columns)
    missing = [c for c in table.primary_key if c not in columns]
    if missing:
        raise MalformedFile(f"no primary key column {', '.join(missing)} in {list(columns)}")
    if len(set(columns)) != len(columns):
        raise MalformedFile(f"duplicate column names in {list(columns)}")
    return CheckedFile(uri, key, fmt, columns, signature)


def read_files(spark: SparkSession, files: Sequence[CheckedFile]) -> DataFrame:
    """Read files of one signature as strings, with their file URI (``_path``) and row
    position (``_row``)."""
    first = files[0]
    paths = [f.uri for f in files]
    if first.format == "parquet":
        return spark.read.parquet(*paths).select(
            *[F.col(f"`{c}`").cast("string").alias(c) for c in first.columns],
            F.col("_metadata.file_path").alias("_path"),
            F.col("_metadata.row_index").alias("_row"),
        )
    schema = T.StructType(
        [T.StructField(c, T.StringType()) for c in first.columns]
        + [T.StructField(CORRUPT_RECORD, T.StringType())]
    )
    df = (
        spark.read.schema(schema)
        .option("header", "true")
        .option("mode", "PERMISSIVE")
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("multiLine", "false")
        .csv(paths)
        .withColumn("_path", F.col("_metadata.file_path"))
        .withColumn("_read_id", F.monotonically_increasing_id())
    )
    # CSV has no row index: rows of one (unsplit) file keep their order in the scan.
    position = F.row_number().over(Window.partitionBy("_path").orderBy("_read_id"))
    return df.withColumn("_row", (position - 1).cast("bigint")).drop("_read_id")


def reject(lakehouse: Lakehouse, table: Table, file: storage.FileEntry, reason: str) -> str:
    """Move a malformed file aside, with a note of why; return where it went."""
    target = f"{lakehouse.rejected_dir()}/{table.source}/{table.name}/{file.key}"
    storage.move(file.uri, target)
    storage.write_text(f"{target}.error.txt", f"{file.uri}\n{reason}\n")
    log.error("bronze.%s: rejected %s: %s", table.name, file.key, reason)
    return target


def drift_messages(table: Table, files: Sequence[CheckedFile]) -> list[str]:
    """Landing files whose columns differ from the declaration, grouped by difference.

    Each message names the table, the files and the columns; nothing is dropped (bronze keeps
    every column, silver ignores undeclared ones and reads absent ones as NULL).
    """
    declared = set(table.column_names)
    groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = defaultdict(list)
    for file in files:
        extra = tuple(c for c in file.columns if c not in declared and c not in DMS_COLUMNS)
        missing = tuple(c for c in table.column_names if c not in file.columns)
        if extra or missing:
            groups[(extra, missing)].append(file.key)
    messages = []
    for (extra, missing), keys in groups.items():
        where = f"table {table.name!r}, {file_list(keys)}"
        if extra:
            messages.append(
                f"{where}: undeclared column(s) {', '.join(extra)}: kept in bronze, "
                "ignored by silver (declare them to keep them)"
            )
        if missing:
            messages.append(
                f"{where}: declared column(s) {', '.join(missing)} absent: NULL in silver"
            )
    return messages


def file_list(keys: Sequence[str], shown: int = 3) -> str:
    """``file a`` / ``files a, b, c and 4 more``."""
    names = sorted(keys)
    if len(names) == 1:
        return f"file {names[0]}"
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"files {', '.join(names[:shown])}{more}"
