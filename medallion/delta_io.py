"""Delta Lake I/O shared by the layers: read, read changes, create, append, merge, maintain.

The only module that touches Delta's Python API (``delta.tables``) and the JVM behind the
session (the Delta log, Hadoop's filesystems): layers, maintenance and catalog call it, so the
transforms stay pure DataFrame -> DataFrame functions. A test holds the rest of the package to
that (``tests/test_boundaries.py``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import types as T
from pyspark.sql.utils import AnalysisException

#: Session settings that make the next Delta write (MERGE included) an idempotent one.
TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"
#: Columns that a change data feed read adds to every row.
CDF_COLUMNS = ("_change_type", "_commit_version", "_commit_timestamp")

#: How Spark and Delta report a data file that no longer exists.
_MISSING_FILE_MARKERS = ("FileNotFoundException", "FILE_NOT_EXIST", "DELTA_FILE_NOT_FOUND")
MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource"
MAX_RECORDS_PER_FILE = "spark.sql.files.maxRecordsPerFile"

# Session settings are session-wide: one write that changes them at a time per session.
_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _session_lock(spark: SparkSession) -> threading.Lock:
    key = int(spark._jsparkSession.hashCode())
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


@dataclass(frozen=True)
class DeltaSnapshot:
    """A Delta table's latest version, unique id (new when recreated) and column names."""

    version: int
    table_id: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class MergeCounts:
    """Rows a MERGE inserted, updated and deleted, and the data files it rewrote."""

    inserted: int
    updated: int
    deleted: int
    #: files the MERGE removed (rewrote or deleted), of the ``files_before`` the table held
    files_rewritten: int = 0
    files_before: int = 0

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


def table_state(spark: SparkSession, path: str) -> DeltaSnapshot:
    """The latest version, id and columns of the table at ``path`` (no data is read)."""
    snapshot = _snapshot(spark, path)
    metadata = snapshot.metadata()
    columns = tuple(str(name) for name in metadata.schema().fieldNames())
    return DeltaSnapshot(int(snapshot.version()), str(metadata.id()), columns)


def partition_columns(spark: SparkSession, path: str) -> list[str]:
    """The partition columns of the Delta table at ``path`` (from its log, no Spark job)."""
    columns = _snapshot(spark, path).metadata().partitionColumns().iterator()
    names = []
    while columns.hasNext():
        names.append(str(columns.next()))
    return names


def file_count(spark: SparkSession, path: str) -> int:
    """How many data files the table's latest version holds (from its checksum when written)."""
    return _file_count(_snapshot(spark, path))


def table_bytes(spark: SparkSession, path: str) -> int | None:
    """Bytes of the data files of the table's latest version, from its checksum file (no
    Spark job); None when the version has none."""
    checksum = _snapshot(spark, path).checksumOpt()
    return int(checksum.get().tableSizeBytes()) if checksum.isDefined() else None


def _file_count(snapshot: Any) -> int:
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


def read_delta(spark: SparkSession, path: str, version: int | None = None) -> DataFrame:
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
    return read_delta(spark, path, until)


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
    user_metadata: str | None = None,
    partition_by: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
    merge_schema: bool = False,
    max_rows_per_file: int | None = None,
) -> None:
    """Append ``df`` to the Delta table at ``path`` in one commit (creating the table).

    ``txn`` (app id, version) makes the write idempotent: Delta skips it when the version is
    not above the one recorded for the app id, and records it otherwise. Delta 3.3.2 reads the
    app id's recorded version inside the write's transaction, so a concurrent commit that
    records the same app id first makes this one fail with ``ConcurrentTransactionException``:
    of two runs that read the same recorded version and write the next one, exactly one adds
    rows. ``user_metadata`` is kept in the commit's ``commitInfo`` (readable by
    :func:`logged_commits` without reading data). ``partition_by`` and ``properties`` apply
    when the append creates the table; ``max_rows_per_file`` splits a task's output into files
    of at most that many rows.
    """
    writer = df.write.format("delta").mode("append")
    if max_rows_per_file is not None:
        writer = writer.option("maxRecordsPerFile", str(max_rows_per_file))
    if txn is not None:
        writer = writer.option("txnAppId", txn[0]).option("txnVersion", str(txn[1]))
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
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
        held = read_delta(spark, path).select(*[f"`{k}`" for k in keys])
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


def merge_sql(
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

    ``txn`` (app id, version) makes it an idempotent write: Delta skips it when the version is
    not above the one recorded for the app id, and records the pair in the same commit.
    ``materialize_source=False`` skips Delta's copy of the source: only for a deterministic
    source (e.g. a cached DataFrame and Delta reads at pinned versions).
    """
    before = _snapshot(spark, path)
    files_before = _file_count(before)
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
    metrics = commit_metrics(spark, path, int(before.version()))
    return MergeCounts(
        inserted=int(values.get("num_inserted_rows") or 0),
        updated=int(values.get("num_updated_rows") or 0),
        deleted=int(values.get("num_deleted_rows") or 0),
        files_rewritten=metrics.get("numTargetFilesRemoved", 0),
        files_before=files_before,
    )


def commit_metrics(spark: SparkSession, path: str, after: int) -> dict[str, int]:
    """The ``operationMetrics`` of the latest commit if it is newer than version ``after`` (read
    from its commit file: no Spark job)."""
    latest = latest_version(spark, path)
    if latest <= after:
        return {}
    commits = logged_commits(spark, path, "", latest - 1, latest)
    return commits[-1].metrics if commits else {}


def append_counted(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    *,
    properties: Mapping[str, str] | None = None,
    txn: tuple[str, int] | None = None,
    user_metadata: str | None = None,
) -> int:
    """Append ``df`` in one commit, adding its new columns; return the rows written.

    ``properties`` apply when the append creates the table; ``txn`` and ``user_metadata`` are
    as for :func:`append` (an idempotent write and the commit's own note).
    """
    before = table_state(spark, path).version if is_delta(spark, path) else -1
    append(
        df,
        path,
        txn=txn,
        user_metadata=user_metadata,
        properties=None if before >= 0 else properties,
        merge_schema=True,
    )
    return commit_metrics(spark, path, before).get("numOutputRows", 0)


def overwrite(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    *,
    partition_by: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Replace the table at ``path`` (its schema and partitioning too) by ``df`` in one commit;
    return the commit's operation metrics."""
    before = table_state(spark, path).version if is_delta(spark, path) else -1
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)
    writer.partitionBy(*partition_by).save(path)
    return commit_metrics(spark, path, before)


def merge_rows(
    spark: SparkSession,
    path: str,
    source: DataFrame,
    *,
    on: Column,
    columns: Sequence[str],
    keys: Sequence[str],
    delete_flag: str,
) -> dict[str, int]:
    """MERGE ``source`` (``columns`` plus the boolean ``delete_flag``) into the table at ``path``.

    Target rows matching ``on`` (source alias ``s``, target ``t``) are deleted where the flag is
    set and otherwise get the source's non-key columns; unmatched source rows without the flag
    are inserted. Returns the commit's operation metrics (empty when nothing was committed).
    """
    before = table_state(spark, path).version
    values = [c for c in columns if c not in keys]
    builder = (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(source.alias("s"), on)
        .whenMatchedDelete(condition=f"s.`{delete_flag}`")
    )
    if values:
        builder = builder.whenMatchedUpdate(set={c: f"s.`{c}`" for c in values})
    builder.whenNotMatchedInsert(
        condition=f"NOT s.`{delete_flag}`", values={c: f"s.`{c}`" for c in columns}
    ).execute()
    return commit_metrics(spark, path, before)


def last_commit(spark: SparkSession, path: str) -> tuple[int, Any] | None:
    """The version and time of the table's latest commit (None when it has none)."""
    row = DeltaTable.forPath(spark, path).history(1).select("version", "timestamp").first()
    return (int(row[0]), row[1]) if row else None


# --- files beside the tables: small text documents and table discovery (Hadoop filesystems) ---


def _hadoop(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """The Hadoop filesystem of ``uri`` (local, s3a://, s3:// on Glue) and its Path."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def read_text(spark: SparkSession, uri: str) -> str | None:
    """A small UTF-8 file's text through Spark's filesystems, or None when it does not exist."""
    fs, path = _hadoop(spark, uri)
    if not fs.exists(path):
        return None
    stream = fs.open(path)
    try:
        jvm = spark.sparkContext._jvm
        assert jvm is not None
        data = jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
    finally:
        stream.close()
    return bytes(data).decode("utf-8")


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write (replace) a small UTF-8 file through Spark's filesystems (a PUT on S3)."""
    fs, path = _hadoop(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


DELTA_LOG = "_delta_log"


def find_tables(spark: SparkSession, root: str, depth: int) -> list[str]:
    """The name (path below ``root``) of every Delta table there, up to ``depth`` levels, sorted.

    Folders holding a ``_delta_log`` are tables and are not descended into.
    """
    fs, path = _hadoop(spark, root)
    if not fs.exists(path):
        return []
    found: list[str] = []

    def walk(folder: Any, level: int) -> None:
        for status in fs.listStatus(folder):
            if not status.isDirectory():
                continue
            child = status.getPath()
            if fs.exists(child.suffix(f"/{DELTA_LOG}")):
                found.append(_relative(path, child))
            elif level < depth and not child.getName().startswith("."):
                walk(child, level + 1)

    walk(path, 1)
    return sorted(found)


def _relative(root: Any, child: Any) -> str:
    base = root.toUri().getPath().rstrip("/")
    return str(child.toUri().getPath())[len(base) + 1 :]


def stored_files(spark: SparkSession, path: str) -> tuple[int, int]:
    """(files, bytes) of a table's data on storage: ``_delta_log`` and hidden files excluded.

    Change data files (``_change_data/``) count: VACUUM removes them too.
    """
    fs, root = _hadoop(spark, path)
    files = size = 0
    iterator = fs.listFiles(root, True)
    while iterator.hasNext():
        status = iterator.next()
        relative = _relative(root, status.getPath())
        if relative.startswith(f"{DELTA_LOG}/") or relative.rsplit("/", 1)[-1].startswith("."):
            continue
        files += 1
        size += int(status.getLen())
    return files, size


# --- maintenance ---

RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


def active_files(spark: SparkSession, path: str) -> int:
    """Files of the table's current snapshot (``DESCRIBE DETAIL`` numFiles)."""
    row = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").select("numFiles").first()
    return int(row[0] or 0) if row else 0


def optimize(
    spark: SparkSession,
    path: str,
    *,
    zorder_by: Sequence[str] = (),
    max_rows_per_file: int | None = None,
) -> None:
    """Compact the table's small files (``OPTIMIZE``), or re-cluster every file by
    ``zorder_by`` (``OPTIMIZE ... ZORDER BY``), writing at most ``max_rows_per_file`` per file."""
    settings = {} if max_rows_per_file is None else {MAX_RECORDS_PER_FILE: str(max_rows_per_file)}
    with session_conf(spark, settings):
        builder = DeltaTable.forPath(spark, path).optimize()
        if zorder_by:
            builder.executeZOrderBy(*zorder_by)
        else:
            builder.executeCompaction()


def table_property(spark: SparkSession, path: str, name: str) -> str | None:
    """A property of the Delta table at ``path`` (from its log, no Spark job)."""
    value = _snapshot(spark, path).metadata().configuration().get(name)
    return str(value.get()) if value.isDefined() else None


def vacuum(spark: SparkSession, path: str, retention_hours: float, *, force: bool) -> None:
    """``VACUUM`` the table, keeping what snapshots of the last ``retention_hours`` need.

    ``force`` turns Delta's retention check off (for a retention below its safe default).
    """
    with session_conf(spark, vacuum_settings(spark, force)):
        DeltaTable.forPath(spark, path).vacuum(float(retention_hours))


@contextmanager
def session_conf(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Set session settings for the block, then restore the previous values."""
    previous = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, old in previous.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)


def vacuum_settings(spark: SparkSession, force: bool) -> dict[str, str]:
    """What VACUUM runs with: the retention check off when forced, a listing sized to the cluster.

    VACUUM lists the table with ``parallelPartitionDiscovery.parallelism`` tasks (10,000 by
    default), which costs minutes on a small cluster for a small table; unless the session sets
    it, one task per core is used.
    """
    settings = {RETENTION_CHECK: "false"} if force else {}
    if spark.conf.get(LISTING_PARALLELISM, None) is None:
        settings[LISTING_PARALLELISM] = str(spark.sparkContext.defaultParallelism)
    return settings


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
    #: ``userMetadata`` of the commit (see :func:`append`)
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
    merge_sql(spark, df, path, on, "WHEN NOT MATCHED THEN INSERT *", txn=txn)


def checkpoint(df: DataFrame) -> DataFrame:
    """``df`` computed now and kept by the executors (memory, then disk) until :func:`release`.

    A local checkpoint cuts the plan (what reads it plans over a scan of its rows, not over
    the query that made them) and, unlike a cache, runs with adaptive execution.
    """
    return df.localCheckpoint(eager=True)


def release(*frames: DataFrame | None) -> None:
    """Free the blocks of checkpoints made by :func:`checkpoint` (others are left alone).

    Spark frees them only once the JVM collects the RDD, which a long session may not do for
    hours: meanwhile they fill storage memory and push every later job to spill.
    """
    for df in frames:
        if df is None:
            continue
        plan = df._jdf.queryExecution().logical()
        if plan.nodeName() == "LogicalRDD":
            plan.rdd().unpersist(False)
