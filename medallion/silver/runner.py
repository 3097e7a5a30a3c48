"""Silver's runner: one table's new bronze rows applied to its silver table, exactly once.

Per table, a run reads the bronze rows appended since the bronze version it last applied (the
change data feed of the append-only bronze table), checks them, and writes in this order:

1. ``silver/<table>_quarantine`` -- the rows that fail a check, unless already there (by the
   bronze row identity ``_file_key``/``_row``/``_batch_id``: a replay adds nothing); created
   empty by the first applied batch when it has none;
2. ``silver/_state/<table>_tombstones`` -- per key deleted in the batch, the order of its latest
   delete (an append; readers take the greatest per key, so a replay changes nothing);
3. ``silver/<table>`` -- MERGE of the latest accepted change per key, applied only when newer
   than both the live row and the key's tombstone (an append while silver is still empty). The
   same commit records the bronze version applied, as the Delta idempotent-write marker
   ``txnAppId``/``txnVersion``.

Every write is idempotent by content, and the watermark moves only with the last one, so a crash
between two writes is repaired by the next run, which rereads the same rows. A run with no new
bronze version reads and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from medallion import delta_io
from medallion.layout import Lakehouse, Layer
from medallion.results import TableResult
from medallion.runner import Progress, run_tables
from medallion.session import sized_for
from medallion.silver import clustering, snapshots
from medallion.silver.quality import Check, any_of, checks
from medallion.silver.transforms import (
    QUARANTINED,
    RULE,
    accepted,
    latest_deletes,
    latest_per_key,
    order_key,
    order_sql,
    quarantine_rows,
    silver_schema,
    to_silver_columns,
    undeclared_columns,
    with_checks,
    with_typed,
)
from medallion.spec import Domain, RuleAction, Table
from medallion.spec.contract import (
    CORRUPT_RECORD,
    ROW_IDENTITY,
    STATE_DIR,
    quarantine_name,
)

#: The bronze lineage column naming a row's landing file (relative to the table's folder).
FILE_KEY = "_file_key"
#: Files named in a drift message (only a sample is read; "and more" says there are others).
FILES_SHOWN = 3
#: Default of ``max_bad_ratio``: a table fails when more of its incoming rows are quarantined.
MAX_BAD_RATIO = 0.05


@dataclass(frozen=True)
class SilverPaths:
    """The Delta tables one silver table reads and writes."""

    bronze: str
    silver: str
    quarantine: str
    tombstones: str

    @classmethod
    def of(cls, lakehouse: Lakehouse, table: Table) -> SilverPaths:
        return cls(
            bronze=lakehouse.table_path(Layer.BRONZE, table.name),
            silver=lakehouse.table_path(Layer.SILVER, table.name),
            quarantine=lakehouse.table_path(Layer.SILVER, quarantine_name(table.name)),
            tombstones=lakehouse.table_path(Layer.SILVER, f"{STATE_DIR}/{table.name}_tombstones"),
        )


def watermark_app_id(table: Table, bronze_table_id: str) -> str:
    """The idempotent-write app id under which silver records the bronze version applied.

    It names the bronze table's unique id, so a rebuilt bronze table is applied from scratch.
    """
    return f"medallion.silver.{table.name}.{bronze_table_id}"


def ensure_silver(spark: SparkSession, path: str, table: Table, *, create: bool) -> bool:
    """Add declared columns silver lacks (creating it empty when ``create``, with the
    properties of :mod:`medallion.silver.clustering`); True if it exists.

    The tombstone table is created by its first append, the quarantine by the first applied
    batch.
    """
    schema = silver_schema(table)
    exists = delta_io.is_delta(spark, path)
    if exists and set(schema.fieldNames()) <= set(delta_io.table_state(spark, path).columns):
        return True
    if exists or create:
        delta_io.ensure_table(
            spark,
            path,
            schema,
            partition_by=table.partition_by,
            properties=clustering.silver_properties(table),
        )
        return True
    return False


@dataclass
class BatchStats:
    """Counts over one batch, from a single pass."""

    rows: int
    files: int
    quarantined: int
    deletes: int
    #: first failing (quarantining) check -> rows
    by_rule: dict[str, int]
    #: fail rule -> rows that pass the structural checks but fail it
    failing: dict[str, int]
    #: warn rule -> applied rows that fail it
    warned: dict[str, int]
    #: ``S`` of a batch holding a full load (:func:`medallion.silver.snapshots.snapshot_time`)
    snapshot_at: datetime | None
    #: least and greatest clustering key of the accepted rows (None when there are none)
    key_low: object = None
    key_high: object = None


def batch_stats(batch: DataFrame, table: Table) -> BatchStats:
    """Count rows, files, quarantined rows, deletes and rule failures of a checked batch, and
    find its snapshot time, in one pass."""
    found = checks(table, corrupt_record=CORRUPT_RECORD in batch.columns)
    structural_ok = ~any_of([c.failed for c in found if c.structural])
    quarantining = [c for c in found if c.structural or c.action is RuleAction.QUARANTINE]

    def count(condition: Column, name: str) -> Column:
        return F.sum(F.when(condition, 1).otherwise(0)).alias(name)

    accepted_key = F.when(~F.col(QUARANTINED), F.col(f"`{clustering.cluster_column(table)}`"))
    fail = [c for c in found if not c.structural and c.action is RuleAction.FAIL]
    warn = [c for c in found if not c.structural and c.action is RuleAction.WARN]
    aggregates = [
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("_file_key").alias("files"),
        count(F.col(QUARANTINED), "quarantined"),
        snapshots.snapshot_time().alias("snapshot_at"),
        F.min(accepted_key).alias("key_low"),
        F.max(accepted_key).alias("key_high"),
        count(~F.col(QUARANTINED) & (F.col("_op") == "D"), "deletes"),
        *[count(F.col(RULE) == c.name, f"q{i}") for i, c in enumerate(quarantining)],
        *[count(structural_ok & c.failed, f"f{i}") for i, c in enumerate(fail)],
        *[count(~F.col(QUARANTINED) & c.failed, f"w{i}") for i, c in enumerate(warn)],
    ]
    row = batch.agg(*aggregates).first()
    assert row is not None

    def counts(prefix: str, found_checks: list[Check]) -> dict[str, int]:
        values = {c.name: int(row[f"{prefix}{i}"] or 0) for i, c in enumerate(found_checks)}
        return {name: n for name, n in values.items() if n}

    return BatchStats(
        rows=int(row["rows"]),
        files=int(row["files"]),
        quarantined=int(row["quarantined"] or 0),
        deletes=int(row["deletes"] or 0),
        by_rule=counts("q", quarantining),
        failing=counts("f", fail),
        warned=counts("w", warn),
        snapshot_at=row["snapshot_at"],
        key_low=row["key_low"],
        key_high=row["key_high"],
    )


def _key_condition(table: Table) -> str:
    return " AND ".join(f"t.`{k}` = s.`{k}`" for k in table.primary_key)


def _newer(table: Table) -> str:
    return f"{order_sql(table, 's')} > {order_sql(table, 't')}"


def write_quarantine(
    spark: SparkSession,
    batch: DataFrame,
    table: Table,
    path: str,
    *,
    rows: int,
    txn: tuple[str, int] | None = None,
) -> None:
    """Append the batch's ``rows`` quarantined rows that the quarantine does not hold yet.

    With ``txn`` (app id, bronze version) the check and the insert are one idempotent commit,
    so two runs applying the same bronze versions at once never quarantine a row twice.
    With none, the quarantine is still created (empty) if missing, so that readers and the
    catalog find a table from the first applied batch on.
    """
    quarantine = quarantine_rows(batch, table)
    if rows and txn is not None:
        delta_io.insert_new(spark, quarantine, path, ROW_IDENTITY, txn=txn)
    elif rows:
        delta_io.append_new(spark, quarantine, path, ROW_IDENTITY)
    elif not delta_io.is_delta(spark, path):
        nullable = T.StructType([T.StructField(f.name, f.dataType) for f in quarantine.schema])
        delta_io.ensure_table(spark, path, nullable)


def write_tombstones(batch: DataFrame, table: Table, path: str) -> None:
    """Append, per key deleted in the batch, the order of its latest delete."""
    delta_io.append(accepted(batch).transform(latest_deletes, table), path)


def changes_to_apply(batch: DataFrame, tombstones: DataFrame | None, table: Table) -> DataFrame:
    """The latest accepted change per key, minus inserts/updates not newer than a delete."""
    latest = accepted(batch).transform(latest_per_key, table)
    if tombstones is None:
        return latest.transform(to_silver_columns, table)
    prefix = "__t_"
    deleted = tombstones.groupBy(
        *[F.col(f"`{k}`").alias(f"{prefix}{k}") for k in table.primary_key]
    ).agg(F.max(order_key(table)).alias("__deleted"))
    joined = latest.join(
        deleted,
        [latest[f"`{k}`"] == deleted[f"`{prefix}{k}`"] for k in table.primary_key],
        "left",
    )
    alive = (
        (F.col("_op") == "D")
        | F.col("__deleted").isNull()
        | (order_key(table) > F.col("__deleted"))
    )
    return joined.where(alive).transform(to_silver_columns, table)


def merge_silver(
    spark: SparkSession,
    changes: DataFrame,
    table: Table,
    path: str,
    *,
    app_id: str,
    bronze_version: int,
    snapshot_at: datetime | None = None,
    key_range: tuple[object, object] | None = None,
) -> delta_io.MergeCounts:
    """Apply the changes to silver, recording ``bronze_version`` in the same commit.

    Silver not written yet takes an append of the live changes (creating the table, clustered
    by key: :mod:`medallion.silver.clustering`); otherwise a MERGE deletes, updates and
    inserts, each only with a change newer than the row it replaces. ``key_range`` (the least
    and greatest clustering key of the changes) lets the MERGE skip files outside it. A batch
    holding a snapshot taken at ``snapshot_at`` also replaces older live rows with its rows and
    deletes older live keys it lacks (:mod:`medallion.silver.snapshots`), so it reads every file.
    Returns the rows inserted, updated or deleted and the files rewritten.
    """
    ensure_silver(spark, path, table, create=True)  # with its properties, before any row
    if delta_io.file_count(spark, path) == 0:
        live = changes.where(F.col("_op") != "D")
        delta_io.append(
            clustering.clustered(live, table, spark.sparkContext.defaultParallelism),
            path,
            txn=(app_id, bronze_version),
            partition_by=table.partition_by,
            max_rows_per_file=clustering.FILE_ROWS,
        )
        written = delta_io.commit_metrics(spark, path, -1).get("numOutputRows", 0)
        return delta_io.MergeCounts(inserted=written, updated=0, deleted=0)
    on = _key_condition(table)
    bounded = None if snapshot_at or key_range is None else clustering.key_range(table, *key_range)
    if bounded:
        on = f"{on} AND {bounded}"
    newer = _newer(table)
    clauses = (
        f"WHEN MATCHED AND s._op = 'D' AND {newer} THEN DELETE "
        f"WHEN MATCHED AND s._op <> 'D' AND {snapshots.replaces(newer)} THEN UPDATE SET * "
        "WHEN NOT MATCHED AND s._op <> 'D' THEN INSERT *"
        f"{snapshots.delete_absent(snapshot_at)}"
    )
    # The changes come from the cached batch and a tombstone snapshot: deterministic, so
    # Delta need not copy them before its two passes.
    return delta_io.merge_sql(
        spark,
        changes,
        path,
        on,
        clauses,
        txn=(app_id, bronze_version),
        materialize_source=False,
    )


def apply_table(
    spark: SparkSession,
    lakehouse: Lakehouse,
    table: Table,
    *,
    max_bad_ratio: float = MAX_BAD_RATIO,
) -> TableResult:
    """Apply one table's new bronze rows to silver; the result says what happened."""
    result = TableResult(layer=Layer.SILVER, table=table.name)
    paths = SilverPaths.of(lakehouse, table)
    has_bronze = delta_io.is_delta(spark, paths.bronze)
    exists = ensure_silver(spark, paths.silver, table, create=not has_bronze)
    if not has_bronze:
        result.messages.append("no bronze table yet; nothing to apply")
        return result

    bronze = delta_io.table_state(spark, paths.bronze)
    app_id = watermark_app_id(table, bronze.table_id)
    applied = delta_io.txn_version(spark, paths.silver, app_id) if exists else None
    if applied is not None and applied >= bronze.version:
        return result

    input_bytes = _input_bytes(spark, paths, applied, bronze.version, silver_exists=exists)
    with sized_for(spark, input_bytes):
        raw = delta_io.read_appended(spark, paths.bronze, applied, bronze.version)
        drift = undeclared_columns(raw, table)
        if drift:
            result.warn(
                f"table {table.name!r}, {_files_with_values(raw, drift)}: undeclared column(s) "
                f"{', '.join(drift)} in bronze, ignored"
            )
        absent = [c for c in table.column_names if c not in raw.columns]
        if absent:
            result.warn(
                f"table {table.name!r}, {_files_with_values(raw, ())}: declared column(s) "
                f"{', '.join(absent)} absent from bronze, NULL"
            )

        batch, stats = _checked_batch(raw, table, missing_ok=applied is not None)
        if stats is None:  # files of those bronze versions are gone: apply the whole table again
            result.warn(
                f"bronze files added after version {applied} are gone (vacuumed); "
                "applying the whole bronze table again"
            )
            full = delta_io.read_delta(spark, paths.bronze, bronze.version)
            batch, stats = _checked_batch(full, table, missing_ok=False)
            assert stats is not None  # missing_ok=False raises instead
        try:
            result.rows_in, result.files = stats.rows, stats.files
            if _quality_failed(result, stats, table, max_bad_ratio):
                return result
            for rule, rows in stats.warned.items():
                result.warn(f"rule {rule} (warn) failed for {rows} applied row(s)")
            write_quarantine(
                spark,
                batch,
                table,
                paths.quarantine,
                rows=stats.quarantined,
                txn=(f"{app_id}.quarantine", bronze.version),  # exactly-once hook (concurrent runs)
            )
            if stats.quarantined:
                result.quarantined = stats.quarantined
                detail = ", ".join(f"{rule}={rows}" for rule, rows in stats.by_rule.items())
                result.warn(f"{stats.quarantined} row(s) quarantined ({detail})")
            if stats.deletes:
                write_tombstones(batch, table, paths.tombstones)
            tombstones = (
                delta_io.read_delta(spark, paths.tombstones)
                if delta_io.is_delta(spark, paths.tombstones)
                else None
            )
            # --- snapshot hook (medallion.silver.snapshots): a full load supersedes older changes
            snapshot_at = stats.snapshot_at
            state = snapshots.state_path(lakehouse, table)
            superseded = max(
                [
                    t
                    for t in (snapshots.latest_snapshot(spark, state), snapshot_at)
                    if t is not None
                ],
                default=None,
            )
            if snapshot_at is not None:
                snapshots.record_snapshot(spark, state, snapshot_at, bronze.version)
            if tombstones is not None:
                tombstones = snapshots.since(tombstones, superseded)
            changes = changes_to_apply(snapshots.since(batch, superseded), tombstones, table)
            # --- end of snapshot hook (and snapshot_at= below)
            counts = merge_silver(
                spark,
                changes,
                table,
                paths.silver,
                app_id=app_id,
                bronze_version=bronze.version,
                snapshot_at=snapshot_at,
                key_range=(stats.key_low, stats.key_high),
            )
            result.rows_out = counts.total
            if counts.files_before:
                result.messages.append(
                    f"MERGE rewrote {counts.files_rewritten} of {counts.files_before} file(s)"
                )
        finally:
            batch.unpersist()
    return result


def _input_bytes(
    spark: SparkSession, paths: SilverPaths, applied: int | None, until: int, *, silver_exists: bool
) -> int | None:
    """Bytes a run reads: bronze's data added after version ``applied`` (all of it when None)
    and silver's, from the Delta logs only; None when a log does not say."""
    silver = delta_io.table_bytes(spark, paths.silver) if silver_exists else 0
    if applied is None:
        bronze = delta_io.table_bytes(spark, paths.bronze)
    else:
        commits = delta_io.logged_commits(spark, paths.bronze, "", applied, until)
        sizes = [commit.metrics.get("numOutputBytes") for commit in commits]
        complete = len(commits) == until - applied and None not in sizes
        bronze = sum(size or 0 for size in sizes) if complete else None
    return None if silver is None or bronze is None else silver + bronze


def _files_with_values(raw: DataFrame, columns: Sequence[str]) -> str:
    """The landing files of ``raw`` with a value in one of ``columns`` (any file when none)."""
    present = F.lit(True)
    if columns:
        present = F.coalesce(*(F.col(f"`{c}`") for c in columns)).isNotNull()
    rows = raw.where(present).select(FILE_KEY).distinct().limit(FILES_SHOWN + 1).collect()
    keys = sorted(str(row[0]) for row in rows)
    if not keys:
        return "no file"
    more = " and more" if len(keys) > FILES_SHOWN else ""
    return f"file{'s' if len(keys) > 1 else ''} {', '.join(keys[:FILES_SHOWN])}{more}"


def _checked_batch(
    raw: DataFrame, table: Table, *, missing_ok: bool
) -> tuple[DataFrame, BatchStats | None]:
    """Type and check bronze rows, cache and count them.

    With ``missing_ok``, a read that fails because data files are gone returns no stats.
    """
    batch = raw.transform(with_typed, table).transform(with_checks, table).persist()
    try:
        return batch, batch_stats(batch, table)
    except Exception as error:
        batch.unpersist()
        if missing_ok and delta_io.is_missing_file(error):
            return batch, None
        raise


def _quality_failed(result: TableResult, stats: BatchStats, table: Table, limit: float) -> bool:
    """Fail the table for a ``fail`` rule or too many quarantined rows; True if it failed."""
    for rule, rows in stats.failing.items():
        result.fail(f"rule {rule} (fail) failed for {rows} row(s); nothing applied")
    if stats.rows and stats.quarantined / stats.rows > limit:
        detail = ", ".join(f"{rule}={rows}" for rule, rows in stats.by_rule.items())
        result.fail(
            f"{stats.quarantined} of {stats.rows} incoming row(s) fail quality checks "
            f"({stats.quarantined / stats.rows:.1%} > max_bad_ratio {limit:.1%}: {detail}); "
            "nothing applied"
        )
    return result.failed


def run_silver(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    tables: Sequence[str] | None = None,
    *,
    max_bad_ratio: float = MAX_BAD_RATIO,
    progress: Progress | None = None,
) -> list[TableResult]:
    """Apply every table (or the named ones); a failing table never stops the others.

    Up to ``$MEDALLION_PARALLELISM`` (default 4) tables are applied at a time, each in its own
    session (sharing the SparkContext) so that one table's session settings (the idempotent
    write's ``txnAppId``/``txnVersion``) never reach another's writes.
    """
    if not 0 <= max_bad_ratio <= 1:
        raise ValueError(f"max_bad_ratio must be between 0 and 1, got {max_bad_ratio}")
    specs = list(domain.tables) if tables is None else [domain.table(t) for t in tables]
    return run_tables(
        spark,
        Layer.SILVER,
        specs,
        lambda session, table: apply_table(session, lakehouse, table, max_bad_ratio=max_bad_ratio),
        name=lambda table: table.name,
        progress=progress,
        session_per_table=True,
    )
