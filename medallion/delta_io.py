"""Delta Lake I/O shared by the layers: read, read changes, create, merge, idempotent commits.

Everything that touches a Delta table's files or log lives here, so the transforms stay pure
DataFrame -> DataFrame functions.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

#: Session settings that make the next Delta write (MERGE included) an idempotent one.
TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"
#: Columns that a change data feed read adds to every row.
CDF_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")
CDF_PROPERTY = "delta.enableChangeDataFeed"

# The txn settings are session-wide: one idempotent write at a time per session.
_TXN_LOCK = threading.Lock()


@dataclass(frozen=True)
class TableState:
    """A Delta table's latest version, its unique id and its idempotent-write markers."""

    version: int
    table_id: str
    transactions: Mapping[str, int]


def is_delta(spark: SparkSession, path: str) -> bool:
    """True when ``path`` holds a Delta table."""
    return bool(DeltaTable.isDeltaTable(spark, path))


def table_state(spark: SparkSession, path: str) -> TableState:
    """The latest snapshot's version, table id and ``txn`` markers (app id -> version).

    The markers are what Delta's idempotent writes (``txnAppId``/``txnVersion``) record in the
    same commit as the data, so they are the crash-safe place for a "processed up to" watermark.
    """
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    none = jvm.scala.Option.empty()
    snapshot = log.update(False, none, none)
    if snapshot.version() < 0:
        raise FileNotFoundError(f"no Delta table at {path}")
    transactions: dict[str, int] = {}
    iterator = snapshot.transactions().iterator()
    while iterator.hasNext():
        pair = iterator.next()
        transactions[str(pair._1())] = int(pair._2())
    return TableState(int(snapshot.version()), str(snapshot.metadata().id()), transactions)


def read_table(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
    """The table at ``path`` (at ``version`` when given)."""
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(path)


def read_changes(spark: SparkSession, path: str, after: int, until: int) -> DataFrame:
    """The change data feed of versions ``after + 1 .. until`` (with the CDF columns)."""
    return (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", after + 1)
        .option("endingVersion", until)
        .load(path)
    )


def read_appended(spark: SparkSession, path: str, after: int | None, until: int) -> DataFrame:
    """Rows appended to an append-only table after version ``after``, up to ``until``.

    ``after=None`` reads the whole snapshot at ``until``. When the change data feed of that
    range is gone (log cleanup, CDF enabled late), the snapshot is returned too: callers must
    make their writes idempotent by content, as silver's are.
    """
    if after is not None:
        try:
            changes = read_changes(spark, path, after, until)
            changes.schema  # noqa: B018 - resolve now, so a missing range fails here
            return changes.where("_change_type = 'insert'").drop(*CDF_COLUMNS)
        except AnalysisException:
            pass
    return read_table(spark, path, until)


def ensure_table(
    spark: SparkSession,
    path: str,
    schema: T.StructType,
    *,
    partition_by: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
) -> None:
    """Create the Delta table at ``path`` if it does not exist; add columns it lacks."""
    if is_delta(spark, path):
        current = {f.name for f in read_table(spark, path).schema.fields}
        missing = [f for f in schema.fields if f.name not in current]
        if missing:
            columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
            spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS ({columns})")
        return
    builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
    if partition_by:
        builder = builder.partitionedBy(*partition_by)
    for key, value in (properties or {}).items():
        builder = builder.property(key, value)
    builder.execute()


@contextmanager
def idempotent_write(spark: SparkSession, app_id: str, version: int) -> Iterator[None]:
    """Make the Delta writes inside the block record (and honour) ``app_id``/``version``.

    Delta skips a write whose ``version`` is not above the one already recorded for ``app_id``
    and records the pair in the same commit as the data otherwise (MERGE, UPDATE, DELETE and
    INSERT alike).
    """
    with _TXN_LOCK:
        spark.conf.set(TXN_APP_ID, app_id)
        spark.conf.set(TXN_VERSION, str(version))
        try:
            yield
        finally:
            spark.conf.unset(TXN_APP_ID)
            spark.conf.unset(TXN_VERSION)


def commit_metrics(spark: SparkSession, path: str, after: int) -> dict[str, int]:
    """The ``operationMetrics`` of the latest commit if it is newer than version ``after``.

    A MERGE that changes nothing commits nothing, so a caller compares versions rather than
    trusting the latest commit to be its own.
    """
    row = DeltaTable.forPath(spark, path).history(1).select("version", "operationMetrics").first()
    if row is None or row["version"] <= after:
        return {}
    return {key: int(value) for key, value in (row["operationMetrics"] or {}).items()}


def insert_new(spark: SparkSession, df: DataFrame, path: str, keys: Sequence[str]) -> int:
    """Insert the rows of ``df`` whose ``keys`` the table does not hold yet; return how many.

    An insert-only MERGE: replaying the same rows adds nothing and commits nothing.
    """
    before = table_state(spark, path).version
    condition = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    table = DeltaTable.forPath(spark, path)
    table.alias("t").merge(df.alias("s"), condition).whenNotMatchedInsertAll().execute()
    return commit_metrics(spark, path, before).get("numTargetRowsInserted", 0)
