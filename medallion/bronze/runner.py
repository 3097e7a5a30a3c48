"""Bronze's runner: one table's new landing files appended to its Delta table, exactly once.

Exactly-once comes from the table's file ledger (:mod:`medallion.ingest_manifest`): a run
appends only files whose identity (key, size, content digest) the ledger lacks, and each table's
new files go in one Delta commit, an idempotent write that a concurrent run cannot repeat. A
crash before that commit leaves nothing behind; one after it is repaired from the commit itself.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import reduce

from pyspark.sql import SparkSession

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
from medallion.ingest_manifest import Ledger
from medallion.layout import Lakehouse, Layer
from medallion.results import TableResult
from medallion.runner import Progress, run_tables
from medallion.session import sized_for
from medallion.spec import Domain, Table
from medallion.spec.contract import BRONZE_PROPERTIES


def new_batch_id() -> str:
    """A sortable id for one run: UTC time plus a random suffix."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def ingest_table(
    spark: SparkSession, lakehouse: Lakehouse, table: Table, batch_id: str
) -> TableResult:
    """Append the new landing files of one table to its bronze table."""
    result = TableResult(layer=Layer.BRONZE, table=table.name)
    target = lakehouse.table_path(Layer.BRONZE, table.name)
    ledger = Ledger(spark, lakehouse, table)
    plan = ledger.plan(storage.list_files(lakehouse.landing_dir(table)))
    pending = plan.pending
    if plan.redelivered:
        result.messages.append(f"{len(plan.redelivered)} re-delivered unchanged file(s) skipped")

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
    with sized_for(spark, sum(file.size for file in pending)):
        frames = [
            read_files(spark, files).transform(
                with_lineage, {f.uri: f.key for f in files}, batch_id
            )
            for files in groups.values()
        ]
        if frames:
            batch = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
            # The commit is the plan's idempotent write; the ledger then says whether it was ours.
            try:
                delta_io.append_counted(
                    spark,
                    batch,
                    target,
                    properties=BRONZE_PROPERTIES,
                    txn=plan.txn,
                    user_metadata=plan.commit_note(batch_id, [f.key for f in good]),
                )
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
                return result  # the with-block restores the session's settings
            result.rows_out = added
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

    Up to ``$MEDALLION_PARALLELISM`` (default 4) tables are ingested at a time, each in its
    own session (sharing the SparkContext), so that a small table's settings
    (:func:`medallion.session.sized_for`) never reach another table's queries.
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
        session_per_table=True,
    )
