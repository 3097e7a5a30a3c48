"""A full load is a snapshot: APPLY CHANGES FROM SNAPSHOT for reloads (docs/contract.md#landing).

DMS writes a table's full load again when the table is reloaded (after a failure, a purged
binary log, by hand), under the same file names; bronze ingests it as new content
(:mod:`medallion.ingest_manifest`). Changes made while replication was down (a gap) have no CDC
rows, deletes included, so the reload is the only news of them. Silver therefore treats the
full-load rows of a batch as a snapshot of the source at time ``S``:

* ``S`` is the earliest ``commit_ts`` of the batch's accepted full-load rows: DMS writes the time
  a row was transferred there (``TimestampColumnName``), so every row of a load is at or after
  its start. Full-load rows without ``commit_ts`` make no snapshot (silver applies them by the
  change order alone, as before).
* Every change committed before ``S`` is superseded by the snapshot: such rows of the batch,
  and of later batches (late files), are not applied. ``S`` is kept per table in
  ``silver/_state/<table>_snapshots`` (an append; readers take the greatest), and tombstones of
  deletes before ``S`` no longer keep the snapshot's rows out.
* A snapshot row replaces a live row committed before it, whatever their change sequence (a
  full-load row has none: the order falls back to ``commit_ts``,
  docs/contract.md#change-ordering).
* A live key the snapshot lacks, whose row was committed before ``S``, is deleted (a MERGE's
  ``WHEN NOT MATCHED BY SOURCE``); a key changed at or after ``S`` stays.

So after a reload silver holds the snapshot's keys plus the changes committed after it;
quarantine and gold follow from silver's commits as for any change. Assumed, as DMS does: a
reload's files land together (bronze ingests what has landed when it starts), and a batch holds
at most one load (a batch holding the initial load *and* a reload takes the earlier ``S``).
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from medallion import delta_io
from medallion.layout import Lakehouse, Layer
from medallion.silver.transforms import QUARANTINED
from medallion.spec import Table
from medallion.spec.contract import STATE_DIR

SNAPSHOT_AT = "snapshot_at"
SCHEMA = T.StructType(
    [
        T.StructField(SNAPSHOT_AT, T.TimestampType()),
        T.StructField("bronze_version", T.LongType()),
    ]
)


def state_path(lakehouse: Lakehouse, table: Table) -> str:
    """``silver/_state/<table>_snapshots``."""
    return lakehouse.table_path(Layer.SILVER, f"{STATE_DIR}/{table.name}_snapshots")


def snapshot_time() -> Column:
    """Aggregate giving ``S`` of a checked batch: the earliest ``_commit_ts`` of its accepted
    full-load rows (NULL when it has none)."""
    return F.min(F.when(F.col("_full_load") & ~F.col(QUARANTINED), F.col("_commit_ts")))


def latest_snapshot(spark: SparkSession, path: str) -> datetime | None:
    """The latest ``S`` recorded for a table (None before its first timed full load)."""
    if not delta_io.is_delta(spark, path):
        return None
    row = delta_io.read_delta(spark, path).agg(F.max(SNAPSHOT_AT).alias("s")).first()
    return None if row is None else row["s"]


def record_snapshot(spark: SparkSession, path: str, at: datetime, bronze_version: int) -> None:
    """Append ``S`` (idempotent by content: readers take the greatest)."""
    delta_io.append(spark.createDataFrame([(at, bronze_version)], SCHEMA), path)


def since(df: DataFrame, at: datetime | None) -> DataFrame:
    """Rows not superseded by the snapshot at ``at``: committed at or after it, of unknown time,
    or quarantined (those still go to the quarantine)."""
    if at is None or "_commit_ts" not in df.columns:
        return df
    keep = F.col("_commit_ts").isNull() | (F.col("_commit_ts") >= F.lit(at))
    if QUARANTINED in df.columns:
        keep = keep | F.col(QUARANTINED)
    return df.where(keep)


def replaces(newer: str) -> str:
    """MERGE condition for ``s`` to replace the live row ``t``: newer in the change order, or a
    full-load row committed after it."""
    snapshot = (
        "(s._full_load AND s._commit_ts IS NOT NULL "
        "AND (t._commit_ts IS NULL OR t._commit_ts < s._commit_ts))"
    )
    return f"({newer} OR {snapshot})"


def delete_absent(at: datetime | None) -> str:
    """MERGE clause deleting the live keys a snapshot at ``at`` lacks, committed before it."""
    if at is None:
        return ""
    moment = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    return (
        " WHEN NOT MATCHED BY SOURCE AND "
        f"(t._commit_ts IS NULL OR t._commit_ts < TIMESTAMP '{moment}') THEN DELETE"
    )
