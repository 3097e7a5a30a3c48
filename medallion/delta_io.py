"""Delta Lake I/O shared by the layers: read, read changes, create, merge, idempotent commits.

Everything that touches a Delta table's files or log lives here, so the transforms stay pure
DataFrame -> DataFrame functions.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

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

#: How Spark and Delta report a data file that no longer exists.
_MISSING_FILE_MARKERS = ("FileNotFoundException", "FILE_NOT_EXIST", "DELTA_FILE_NOT_FOUND")
MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource"

# Session settings are session-wide: one write that changes them at a time per session.
_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _session_lock(spark: SparkSession) -> threading.Lock:
    key = int(spark._jsparkSession.hashCode())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class TableState:
    """A Delta table's latest version, unique id (new when recreated) and column names."""

    version: int
    table_id: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class MergeCounts:
    """Rows a MERGE inserted, updated and deleted."""

    inserted: int
    updated: int
    deleted: int

    @property
    def total(self) -> int:
        return self.inserted + self.updated + self.deleted


def is_delta(spark: SparkSession, path: str) -> bool:
    """True when ``path`` holds a Delta table."""
    return bool(DeltaTable.isDeltaTable(spark, path))


def _log(spark: SparkSession, path: str) -> Any:
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    return jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)


def _snapshot(spark: SparkSession, path: str) -> Any:
    """The latest snapshot of the Delta log at ``path`` (a JVM object)."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    none = jvm.scala.Option.empty()
    snapshot = _log(spark, path).update(False, none, none)
    if snapshot.version() < 0:
        raise FileNotFoundError(f"no Delta table at {path}")
    return snapshot


def table_state(spark: SparkSession, path: str) -> TableState:
    """The latest version, id and columns of the table at ``path`` (no data is read)."""
    snapshot = _snapshot(spark, path)
    metadata = snapshot.metadata()
    columns = tuple(str(name) for name in metadata.schema().fieldNames())
    return TableState(int(snapshot.version()), str(metadata.id()), columns)


def file_count(spark: SparkSession, path: str) -> int:
    """How many data files the table's latest version holds (from its checksum when written)."""
    snapshot = _snapshot(spark, path)
    checksum = snapshot.checksumOpt()
    if checksum.isDefined():
        return int(checksum.get().numFiles())
    return int(snapshot.numOfFiles())


def txn_version(spark: SparkSession, path: str, app_id: str, *, lookback: int = 10) -> int | None:
    """The version last recorded for ``app_id`` by an idempotent write, if any.

    Delta's idempotent writes (``txnAppId``/``txnVersion``) record this marker in the same
    commit as the data, so it is the crash-safe place for a "processed up to" watermark. The
    last ``lookback`` commits are read first (a few small files); only when the marker is not
    there is the whole snapshot's state reconstructed.
    """
    log = _log(spark, path)
    latest = int(_snapshot(spark, path).version())
    found = None
    try:
        commits = log.getChanges(max(0, latest - lookback + 1), False)
        while commits.hasNext():
            actions = commits.next()._2().iterator()
            while actions.hasNext():
                action = actions.next()
                if action.getClass().getSimpleName() == "SetTransaction" and (
                    action.appId() == app_id
                ):
                    found = int(action.version())
    except Exception:  # a commit file gone (log cleanup): fall back to the snapshot
        found = None
    if found is not None:
        return found
    marker = _snapshot(spark, path).transactions().get(app_id)
    return int(marker.get()) if marker.isDefined() else None


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


def is_missing_file(error: BaseException) -> bool:
    """True when a read failed because a data file is gone (e.g. removed by VACUUM)."""
    text = str(error)
    return any(marker in text for marker in _MISSING_FILE_MARKERS)


def ensure_table(
    spark: SparkSession,
    path: str,
    schema: T.StructType,
    *,
    partition_by: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
) -> None:
    """Create the Delta table at ``path`` if it does not exist; add declared columns it lacks."""
    if is_delta(spark, path):
        current = set(table_state(spark, path).columns)
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


def append(
    df: DataFrame,
    path: str,
    *,
    txn: tuple[str, int] | None = None,
    partition_by: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
    merge_schema: bool = False,
) -> None:
    """Append ``df`` to the Delta table at ``path`` in one commit (creating the table).

    ``txn`` (app id, version) makes the write idempotent: Delta skips it when the version is
    not above the one recorded for the app id, and records it otherwise. ``partition_by`` and
    ``properties`` apply when the append creates the table.
    """
    writer = df.write.format("delta").mode("append")
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", str(txn[1]))
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)


def append_new(spark: SparkSession, df: DataFrame, path: str, keys: Sequence[str]) -> None:
    """Append the rows of ``df`` whose ``keys`` the table does not hold yet (creating it).

    Replaying the same rows adds nothing. Meant for small tables with one writer at a time;
    new columns of ``df`` are added to the table.
    """
    if is_delta(spark, path):
        held = read_table(spark, path).select(*[f"`{k}`" for k in keys])
        df = df.join(held, list(keys), "left_anti").select(*df.columns)
    append(df, path, merge_schema=True)


@contextmanager
def _session_settings(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Set session settings for the block only (one such block at a time per session)."""
    with _session_lock(spark):
        for key, value in settings.items():
            spark.conf.set(key, value)
        try:
            yield
        finally:
            for key in settings:
                spark.conf.unset(key)


def idempotent_write(
    spark: SparkSession, app_id: str, version: int
) -> AbstractContextManager[None]:
    """A context in which Delta writes record (and honour) ``app_id``/``version``.

    Delta skips a write whose ``version`` is not above the one already recorded for ``app_id``
    and records the pair in the same commit as the data otherwise (MERGE, UPDATE, DELETE and
    INSERT alike).
    """
    return _session_settings(spark, {TXN_APP_ID: app_id, TXN_VERSION: str(version)})


def merge(
    spark: SparkSession,
    source: DataFrame,
    path: str,
    on: str,
    clauses: str,
    *,
    txn: tuple[str, int] | None = None,
    materialize_source: bool = True,
) -> MergeCounts:
    """``MERGE INTO <path> t USING <source> s ON <on> <clauses>``; return its row counts.

    ``txn`` (app id, version) makes it an idempotent write (see :func:`idempotent_write`).
    ``materialize_source=False`` skips Delta's copy of the source: only for a deterministic
    source (e.g. a cached DataFrame and Delta reads at pinned versions).
    """
    view = f"merge_source_{uuid.uuid4().hex}"
    source.createOrReplaceTempView(view)
    settings = {} if materialize_source else {MATERIALIZE_SOURCE: "none"}
    if txn is not None:
        settings.update({TXN_APP_ID: txn[0], TXN_VERSION: str(txn[1])})
    try:
        with _session_settings(spark, settings):
            row = spark.sql(f"MERGE INTO delta.`{path}` t USING {view} s ON {on} {clauses}").first()
    finally:
        spark.catalog.dropTempView(view)
    values = row.asDict() if row is not None else {}
    return MergeCounts(
        inserted=int(values.get("num_inserted_rows") or 0),
        updated=int(values.get("num_updated_rows") or 0),
        deleted=int(values.get("num_deleted_rows") or 0),
    )


def commit_metrics(spark: SparkSession, path: str, after: int) -> dict[str, int]:
    """The ``operationMetrics`` of the latest commit if it is newer than version ``after``."""
    row = DeltaTable.forPath(spark, path).history(1).select("version", "operationMetrics").first()
    if row is None or row["version"] <= after:
        return {}
    return {key: int(value) for key, value in (row["operationMetrics"] or {}).items()}


# --- Exactly-once commits under concurrent runs ------------------------------------------------

#: Delta's errors for a commit that lost to a concurrent one (Delta's own exception names).
_CONCURRENT_MARKERS = (
    "ConcurrentTransactionException",
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentWriteException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DELTA_CONCURRENT_",
)


def is_concurrent_commit(error: BaseException) -> bool:
    """True when a Delta commit failed because a concurrent run committed first."""
    from delta.exceptions import DeltaConcurrentModificationException

    if isinstance(error, DeltaConcurrentModificationException):
        return True
    text = f"{type(error).__name__}: {error}"
    return any(marker in text for marker in _CONCURRENT_MARKERS)


@dataclass(frozen=True)
class LoggedCommit:
    """One commit of a Delta log as its commit file records it (no data file is read)."""

    version: int
    #: the idempotent-write version recorded for the app id asked about, if any
    txn_version: int | None
    #: ``userMetadata`` of the commit (see :func:`append_once`)
    user_metadata: str | None
    #: True when the commit added data (an append or a rewrite that changes data)
    adds_data: bool
    #: ``operationMetrics`` of the commit
    metrics: dict[str, int]


def logged_commits(
    spark: SparkSession, path: str, app_id: str, after: int, until: int
) -> list[LoggedCommit]:
    """The commits ``after + 1 .. until`` of the table at ``path``, read from its log files only.

    Commit files already removed by log cleanup are missing from the list: callers compare the
    first version returned with ``after + 1``.
    """
    if until <= after:
        return []
    found: list[LoggedCommit] = []
    commits = _log(spark, path).getChanges(after + 1, False)
    while commits.hasNext():
        entry = commits.next()
        version = int(entry._1())
        if version > until:
            break
        txn: int | None = None
        metadata: str | None = None
        adds = False
        metrics: dict[str, int] = {}
        actions = entry._2().iterator()
        while actions.hasNext():
            action = actions.next()
            kind = action.getClass().getSimpleName()
            if kind == "SetTransaction" and action.appId() == app_id:
                txn = int(action.version())
            elif kind == "CommitInfo":
                user = action.userMetadata()
                metadata = str(user.get()) if user.isDefined() else None
                operation = action.operationMetrics()
                if operation.isDefined():
                    pairs = operation.get().iterator()
                    while pairs.hasNext():
                        pair = pairs.next()
                        value = str(pair._2())
                        if value.isdigit():
                            metrics[str(pair._1())] = int(value)
            elif kind == "AddFile" and bool(action.dataChange()):
                adds = True
        found.append(LoggedCommit(version, txn, metadata, adds, metrics))
    return found


def latest_version(spark: SparkSession, path: str) -> int:
    """The latest version of the table at ``path`` (-1 when there is none); reads the log only."""
    if not is_delta(spark, path):
        return -1
    return int(_snapshot(spark, path).version())


def append_once(
    df: DataFrame,
    path: str,
    *,
    txn: tuple[str, int],
    user_metadata: str | None = None,
    properties: Mapping[str, str] | None = None,
    merge_schema: bool = False,
) -> None:
    """Append ``df`` as the idempotent write ``txn`` (app id, version), creating the table.

    Delta 3.3.2 reads the app id's recorded version inside the write's transaction: a version
    not above it makes the write a no-op, and a concurrent commit that records the same app id
    first makes this one fail with ``ConcurrentTransactionException``. So of two runs that
    read the same recorded version and write the next one, exactly one adds rows.
    ``user_metadata`` is kept in the commit's ``commitInfo`` (readable by
    :func:`logged_commits` without reading data).
    """
    writer = (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", txn[0])
        .option("txnVersion", str(txn[1]))
    )
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    if merge_schema:
        writer = writer.option("mergeSchema", "true")
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)
    writer.save(path)


def insert_new(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    keys: Sequence[str],
    *,
    txn: tuple[str, int],
) -> None:
    """Insert the rows of ``df`` whose ``keys`` the table lacks, as the idempotent write ``txn``.

    Unlike :func:`append_new`, the check and the insert are one transaction (an insert-only
    MERGE): a concurrent writer that adds rows first makes this commit fail instead of adding
    the same rows twice. Creates the table (empty, with ``df``'s schema) when missing.
    """
    if not is_delta(spark, path):
        nullable = T.StructType([T.StructField(f.name, f.dataType) for f in df.schema])
        ensure_table(spark, path, nullable)
    on = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    merge(spark, df, path, on, "WHEN NOT MATCHED THEN INSERT *", txn=txn)
