"""Bronze's runner: one table's new landing files appended to its Delta table, exactly once.

Exactly-once comes from the bronze table itself: each row carries ``_file_key`` (its file's path
below the table's landing folder), a run appends only files whose key bronze does not hold yet,
and each table's new files go in one Delta commit. A crash before that commit leaves nothing
behind; a rerun after it finds the keys and skips the files.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import reduce

from pyspark.sql import SparkSession
from pyspark.sql.utils import AnalysisException

from medallion import delta_io, storage
from medallion.bronze.landing import (
    CheckedFile,
    MalformedFile,
    drift_messages,
    inspect,
    read_files,
    reject,
)
from medallion.bronze.transforms import with_lineage
from medallion.layout import Lakehouse, Layer
from medallion.results import TableResult
from medallion.runner import Progress, run_tables
from medallion.spec import Domain, Table
from medallion.spec.contract import BRONZE_PROPERTIES


def new_batch_id() -> str:
    """A sortable id for one run: UTC time plus a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def ingested_keys(spark: SparkSession, path: str) -> set[str]:
    """The ``_file_key`` of every file already in a bronze table (empty if none yet)."""
    try:
        rows = delta_io.read_delta(spark, path).select("_file_key").distinct().collect()
    except AnalysisException:
        return set()
    return {row[0] for row in rows}


def ingest_table(
    spark: SparkSession, lakehouse: Lakehouse, table: Table, batch_id: str
) -> TableResult:
    """Append the new landing files of one table to its bronze table."""
    result = TableResult(layer=Layer.BRONZE, table=table.name)
    target = lakehouse.table_path(Layer.BRONZE, table.name)
    done = ingested_keys(spark, target)
    pending = [f for f in storage.list_files(lakehouse.landing_dir(table)) if f.key not in done]

    good: list[CheckedFile] = []
    for file in pending:
        try:
            good.append(inspect(file.uri, file.key, table))
        except MalformedFile as error:
            result.rejected_files.append(file.key)
            result.fail(
                f"file {file.key}: {error}; moved to {reject(lakehouse, table, file, str(error))}"
            )

    groups: dict[str, list[CheckedFile]] = defaultdict(list)
    for checked in good:
        groups[checked.signature].append(checked)
    frames = [
        read_files(spark, files).transform(with_lineage, {f.uri: f.key for f in files}, batch_id)
        for files in groups.values()
    ]
    if frames:
        batch = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
        result.rows_out = delta_io.append_counted(
            spark, batch, target, properties=BRONZE_PROPERTIES
        )
        result.files = len(good)
        for message in drift_messages(table, good):
            result.warn(message)
    result.rows_in = result.rows_out
    return result


def run_bronze(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    tables: Sequence[str] | None = None,
    *,
    batch_id: str | None = None,
    progress: Progress | None = None,
) -> list[TableResult]:
    """Ingest every table (or the named ones); a failing table never stops the others.

    Up to ``$MEDALLION_PARALLELISM`` (default 4) tables are ingested at a time.
    """
    batch = batch_id or new_batch_id()
    specs = list(domain.tables) if tables is None else [domain.table(t) for t in tables]
    return run_tables(
        spark,
        Layer.BRONZE,
        specs,
        lambda session, table: ingest_table(session, lakehouse, table, batch),
        name=lambda table: table.name,
        progress=progress,
    )
