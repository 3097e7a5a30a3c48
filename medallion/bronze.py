"""Bronze: every new landing file of every table appended exactly once to its Delta table.

Exactly-once comes from the table's file ledger (:mod:`medallion.ingest_manifest`): a run
appends only files whose identity (key, size, content digest) the ledger lacks, and each table's
new files go in one Delta commit, an idempotent write that a concurrent run cannot repeat. A
crash before that commit leaves nothing behind; one after it is repaired from the commit itself.

Values are kept as received, as strings (CSV and parquet alike, and whatever types DMS chose for
a file), so a new upstream column or a changed column type never breaks ingestion; silver casts.
Malformed files are moved to ``landing/_rejected/`` beside a note of the reason, and reported.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import reduce

import pyarrow.parquet as pq
from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from medallion import delta_io, storage
from medallion.concurrency import map_tables
from medallion.ingest_manifest import Ledger
from medallion.layout import Lakehouse, Layer
from medallion.results import Status, TableResult
from medallion.spec import CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, DMS_COLUMNS, OP_COLUMN, Domain
from medallion.spec import Table as TableSpec

log = logging.getLogger(__name__)

#: Lineage columns every bronze row carries (see docs/architecture.md).
LINEAGE_COLUMNS = (
    "_op",
    "_commit_ts",
    "_change_seq",
    "_full_load",
    "_file_key",
    "_source_file",
    "_row",
    "_ingested_at",
    "_batch_id",
)
CORRUPT_RECORD = "_corrupt_record"
BRONZE_PROPERTIES = {
    "delta.appendOnly": "true",
    "delta.enableChangeDataFeed": "true",
}
SUFFIXES = (".parquet", ".csv")


class MalformedFile(ValueError):
    """A landing file that cannot be ingested; the message says why."""


@dataclass(frozen=True)
class LandingFile:
    """A new landing file, checked, with the column names it holds."""

    uri: str
    key: str
    format: str
    columns: tuple[str, ...]
    #: Files with the same signature can be read by Spark in one scan.
    signature: str


def new_batch_id() -> str:
    """A sortable id for one run: UTC time plus a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def inspect(uri: str, key: str, table: TableSpec) -> LandingFile:
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
    return LandingFile(uri, key, fmt, columns, signature)


def _read_group(spark: SparkSession, files: Sequence[LandingFile]) -> DataFrame:
    """Read files of one signature as strings, with their file URI and row position."""
    first = files[0]
    paths = [f.uri for f in files]
    if first.format == "parquet":
        df = spark.read.parquet(*paths).select(
            *[F.col(f"`{c}`").cast("string").alias(c) for c in first.columns],
            F.col("_metadata.file_path").alias("_path"),
            F.col("_metadata.row_index").alias("_row"),
        )
        return df
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


def _with_lineage(df: DataFrame, files: Sequence[LandingFile], batch_id: str) -> DataFrame:
    """Add the typed lineage columns to rows read as strings."""
    keys = F.create_map(*[x for f in files for x in (F.lit(_plain_path(f.uri)), F.lit(f.key))])
    uris = F.create_map(*[x for f in files for x in (F.lit(f.key), F.lit(f.uri))])
    # Spark reports a file as a URI (file:/…, s3a://…) with its path percent-encoded.
    spark_path = F.url_decode(F.regexp_replace("_path", r"\+", "%2B"))
    key = keys[F.regexp_replace(spark_path, "^(file:|s3a?://)", "")]
    op = F.upper(F.trim(F.col(OP_COLUMN))) if OP_COLUMN in df.columns else F.lit(None)
    file_name = F.element_at(F.split(key, "/"), -1)

    def parsed(column: str, type_: str) -> Column:
        return F.col(column).cast(type_) if column in df.columns else F.lit(None).cast(type_)

    return (
        df.withColumn("_file_key", key)
        .withColumn("_op", F.when(op.isNull() | (op == ""), "I").otherwise(op))
        .withColumn("_commit_ts", parsed(COMMIT_TS_COLUMN, "timestamp"))
        .withColumn("_change_seq", parsed(CHANGE_SEQ_COLUMN, "decimal(38,0)"))
        .withColumn("_full_load", F.upper(file_name).startswith("LOAD"))
        .withColumn("_source_file", uris[F.col("_file_key")])
        .withColumn("_ingested_at", F.current_timestamp())
        .withColumn("_batch_id", F.lit(batch_id))
        .drop("_path")
    )


def _plain_path(uri: str) -> str:
    """A file's URI without its scheme, as matched against Spark's file paths."""
    return uri.split("://", 1)[1] if "://" in uri else uri


def _append(
    spark: SparkSession,
    df: DataFrame,
    path: str,
    partition_by: Sequence[str],
    options: Mapping[str, str] | None = None,
) -> int:
    """Append ``df`` to the bronze table at ``path`` in one commit; return rows written.

    ``options`` are extra writer options (the ledger's idempotent write and file list).
    """
    exists = DeltaTable.isDeltaTable(spark, path)
    writer = df.write.format("delta").mode("append").option("mergeSchema", "true")
    writer = writer.options(**(options or {}))
    if not exists:
        for key, value in BRONZE_PROPERTIES.items():
            writer = writer.option(key, value)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)
    metrics = DeltaTable.forPath(spark, path).history(1).select("operationMetrics").first()
    return int((metrics[0] or {}).get("numOutputRows", 0)) if metrics else 0


def _reject(lakehouse: Lakehouse, table: TableSpec, file: storage.FileEntry, reason: str) -> str:
    """Move a malformed file aside, with a note of why; return where it went."""
    target = f"{lakehouse.rejected_dir()}/{table.source}/{table.name}/{file.key}"
    storage.move(file.uri, target)
    storage.write_text(f"{target}.error.txt", f"{file.uri}\n{reason}\n")
    log.error("bronze.%s: rejected %s: %s", table.name, file.key, reason)
    return target


def ingest_table(
    spark: SparkSession,
    lakehouse: Lakehouse,
    table: TableSpec,
    batch_id: str,
) -> TableResult:
    """Append the new landing files of one table to its bronze table."""
    started = time.monotonic()
    result = TableResult(layer=Layer.BRONZE, table=table.name)
    target = lakehouse.table_path(Layer.BRONZE, table.name)
    # --- exactly-once hook 1/2 (medallion.ingest_manifest): the ledger plans the new files
    ledger = Ledger(spark, lakehouse, table)
    plan = ledger.plan(storage.list_files(lakehouse.landing_dir(table)))
    pending = plan.pending
    if plan.redelivered:
        result.messages.append(f"{len(plan.redelivered)} re-delivered unchanged file(s) skipped")
    # --- end of hook 1/2

    good: list[LandingFile] = []
    for file in pending:
        try:
            good.append(inspect(file.uri, file.key, table))
        except MalformedFile as error:
            result.rejected_files.append(file.key)
            result.fail(
                f"file {file.key}: {error}; moved to {_reject(lakehouse, table, file, str(error))}"
            )

    groups: dict[str, list[LandingFile]] = defaultdict(list)
    for checked in good:
        groups[checked.signature].append(checked)
    frames = [
        _with_lineage(_read_group(spark, files), files, batch_id) for files in groups.values()
    ]
    if frames:
        batch = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
        # --- exactly-once hook 2/2: commit as the plan's idempotent write, then record it
        try:
            _append(spark, batch, target, (), plan.write_options(batch_id, [f.key for f in good]))
        except Exception as error:
            if not delta_io.is_concurrent_commit(error):
                raise
        added = ledger.record(plan, batch_id)
        if added is None:
            result.warn(
                f"a concurrent bronze run committed to {table.name} first (idempotent write "
                f"{plan.app_id} v{plan.txn_version}); added nothing, a rerun ingests any file "
                "it did not"
            )
            result.rows_out = result.rows_in = 0
            result.seconds = time.monotonic() - started
            return result
        result.rows_out = added
        # --- end of hook 2/2
        result.files = len(good)
        undeclared = sorted(
            set(batch.columns)
            - set(table.column_names)
            - set(DMS_COLUMNS)
            - set(LINEAGE_COLUMNS)
            - {CORRUPT_RECORD}
        )
        if undeclared:
            result.warn(f"new upstream column(s) {', '.join(undeclared)}: kept in bronze")
    result.rows_in = result.rows_out
    result.seconds = time.monotonic() - started
    return result


def run_bronze(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    tables: Sequence[str] | None = None,
    *,
    batch_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[TableResult]:
    """Ingest every table (or the named ones); a failing table never stops the others.

    Up to ``$MEDALLION_PARALLELISM`` (default 4) tables are ingested at a time.
    """
    batch_id = batch_id or new_batch_id()

    def ingest_one(spec: TableSpec) -> TableResult:
        if progress:
            progress(f"bronze.{spec.name}")
        try:
            return ingest_table(spark, lakehouse, spec, batch_id)
        except Exception as error:  # one table's failure is reported, the others still load
            log.exception("bronze.%s failed", spec.name)
            failed = TableResult(layer=Layer.BRONZE, table=spec.name, status=Status.FAILED)
            failed.messages.append(f"{type(error).__name__}: {error}")
            return failed

    specs = list(domain.tables) if tables is None else [domain.table(t) for t in tables]
    return map_tables(ingest_one, specs, name="bronze")
