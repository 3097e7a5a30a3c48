"""Bronze-shaped Delta tables written directly, so silver is tested without landing files.

Changes are the reference's :class:`~tests.reference.silver.Change`, so one list feeds both
Spark and the plain-Python reference.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from medallion.layout import Lakehouse
from medallion.spec import DMS_COLUMNS, Table
from tests.reference.silver import Change

LINEAGE_SCHEMA = [
    T.StructField("_op", T.StringType()),
    T.StructField("_commit_ts", T.TimestampType()),
    T.StructField("_change_seq", T.DecimalType(38, 0)),
    T.StructField("_full_load", T.BooleanType()),
    T.StructField("_file_key", T.StringType()),
    T.StructField("_source_file", T.StringType()),
    T.StructField("_row", T.LongType()),
    T.StructField("_ingested_at", T.TimestampType()),
    T.StructField("_batch_id", T.StringType()),
]
EPOCH = datetime(2024, 1, 1)


def cdc(op: str | None, seq: int | None, file_key: str, row: int, **values: Any) -> Change:
    """A change as bronze holds it; ``seq`` gives ``change_seq`` and ``commit_ts`` (EPOCH +
    seq seconds); ``seq=None`` leaves both out, as in a full-load file."""
    commit_ts = None if seq is None else EPOCH + timedelta(seconds=seq)
    return Change(
        file_key=file_key,
        row=row,
        values={k: None if v is None else str(v) for k, v in values.items()},
        op=(op or "").strip().upper() or "I",
        commit_ts=commit_ts,
        change_seq=None if seq is None else Decimal(seq),
        full_load=file_key.rsplit("/", 1)[-1].upper().startswith("LOAD"),
        raw_commit_ts=None if commit_ts is None else f"{commit_ts:%Y-%m-%d %H:%M:%S}",
        raw_change_seq=None if seq is None else f"{seq:020d}",
    )


def bronze_schema(table: Table, extra: tuple[str, ...] = ()) -> T.StructType:
    """DMS and declared columns as strings (plus ``extra`` upstream ones), then lineage."""
    names = [*DMS_COLUMNS, *table.column_names, *extra]
    return T.StructType([T.StructField(n, T.StringType()) for n in names] + LINEAGE_SCHEMA)


def bronze_row(change: Change, batch: str) -> dict[str, Any]:
    return {
        "Op": change.op,
        "commit_ts": change.raw_commit_ts,
        "change_seq": change.raw_change_seq,
        **change.values,
        "_op": change.op,
        "_commit_ts": change.commit_ts,
        "_change_seq": change.change_seq,
        "_full_load": change.full_load,
        "_file_key": change.file_key,
        "_source_file": f"file:/landing/{change.file_key}",
        "_row": change.row,
        "_ingested_at": EPOCH,
        "_batch_id": batch,
    }


def bronze_frame(
    spark: SparkSession,
    table: Table,
    changes: list[Change],
    extra: tuple[str, ...] = (),
    batch: str = "b",
) -> DataFrame:
    schema = bronze_schema(table, extra)
    rows = [bronze_row(c, batch) for c in changes]
    return spark.createDataFrame([[r.get(f.name) for f in schema.fields] for r in rows], schema)


def append_bronze(
    spark: SparkSession,
    lakehouse: Lakehouse,
    table: Table,
    changes: list[Change],
    extra: tuple[str, ...] = (),
) -> None:
    """Append changes to ``bronze/<table>`` in one commit, as bronze does (CDF on, append-only)."""
    (
        bronze_frame(spark, table, changes, extra)
        .write.format("delta")
        .mode("append")
        .option("mergeSchema", "true")
        .option("delta.enableChangeDataFeed", "true")
        .option("delta.appendOnly", "true")
        .save(lakehouse.table_path("bronze", table.name))
    )


def read(spark: SparkSession, lakehouse: Lakehouse, name: str) -> DataFrame:
    return spark.read.format("delta").load(lakehouse.table_path("silver", name))


def silver_rows(spark: SparkSession, lakehouse: Lakehouse, table: Table) -> list[tuple[Any, ...]]:
    """The declared columns of silver, sorted (metadata columns left out)."""
    rows = read(spark, lakehouse, table.name).select(*table.column_names).collect()
    return sorted(tuple(r) for r in rows)


def silver_sources(spark: SparkSession, lakehouse: Lakehouse, table: Table) -> dict[Any, Any]:
    """Key -> (file key, row) of the change each live row reflects."""
    rows = read(spark, lakehouse, table.name).select(*table.primary_key, "_file_key", "_row")
    return {tuple(r)[:-2]: (r["_file_key"], r["_row"]) for r in rows.collect()}


def quarantined(spark: SparkSession, lakehouse: Lakehouse, table: Table) -> dict[Any, Any]:
    """(file key, row) -> (first rule, all rules) of every quarantined row.

    Fails if a bronze row is quarantined twice. Empty while the quarantine does not exist.
    """
    if not DeltaTable.isDeltaTable(spark, lakehouse.table_path("silver", table.quarantine_name)):
        return {}
    df = read(spark, lakehouse, table.quarantine_name)
    rows = df.select("_file_key", "_row", "_rule", "_rules").collect()
    found = {(r[0], r[1]): (r[2], tuple(r[3])) for r in rows}
    assert len(found) == len(rows), f"{table.quarantine_name} holds a bronze row twice"
    return found


def version(spark: SparkSession, path: str) -> int:
    """The latest version of a Delta table."""
    return int(DeltaTable.forPath(spark, path).history(1).first()["version"])
