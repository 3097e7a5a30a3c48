"""How every layer runs its tables: side by side, timed, reported, one failure never stopping
the others.

A layer's tables are independent (each writes its own Delta tables), and most of their work is
small Spark jobs and Delta commits whose latency, not CPU, dominates. Running a few at a time
overlaps those waits. ``$MEDALLION_PARALLELISM`` (default 4) sets how many; 1 runs them in order.

A layer package (``medallion.bronze``, ``.silver``, ``.gold``) gives :func:`run_tables` its
per-table function (one table in, one :class:`~medallion.results.TableResult` out);
:func:`run_tables` adds the progress line, the timing and the FAILED result of an exception,
or, when the exception is a Delta commit lost to a concurrent run of the same layer, the
warning of :func:`medallion.exactly_once.lost_race` (that run added nothing).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from medallion import exactly_once
from medallion.results import Status, TableResult
from medallion.spec.contract import Layer

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

PARALLELISM = 4
PARALLELISM_ENV = "MEDALLION_PARALLELISM"

Item = TypeVar("Item")
Result = TypeVar("Result")
#: Receives a line as each layer and each table starts.
Progress = Callable[[str], None]


def parallelism() -> int:
    """How many tables a layer processes at a time (``$MEDALLION_PARALLELISM``)."""
    value = os.environ.get(PARALLELISM_ENV, str(PARALLELISM))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PARALLELISM_ENV} must be a positive integer, got {value!r}")
    return int(value)


def map_tables(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    workers: int | None = None,
    name: str = "table",
) -> list[Result]:
    """``work`` applied to every item, up to ``workers`` (default :func:`parallelism`) at a
    time; results in the order of ``items``. ``work`` should report failures, not raise."""
    count = min(parallelism() if workers is None else workers, len(items))
    if count <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix=name) as pool:
        return list(pool.map(work, items))


def run_tables(
    spark: SparkSession,
    layer: Layer,
    items: Sequence[Item],
    work: Callable[[SparkSession, Item], TableResult],
    *,
    name: Callable[[Item], str],
    progress: Progress | None = None,
    workers: int | None = None,
    session_per_table: bool = False,
) -> list[TableResult]:
    """``work(spark, item)`` for every item, up to ``workers`` (default
    ``$MEDALLION_PARALLELISM``) at a time; one result per item, in the order of ``items``.

    Each table's result gets its wall time; an exception becomes a FAILED result naming the
    table and the error's first line (the whole trace goes to the log). ``progress`` receives
    ``<layer>.<table>`` as each table starts. With ``session_per_table`` and more than one
    worker, each table runs in a new session of the same SparkContext, so that one table's
    session settings never reach another's writes.
    """
    count = min(parallelism() if workers is None else workers, len(items))
    own_session = session_per_table and count > 1

    def one(item: Item) -> TableResult:
        table = name(item)
        if progress:
            progress(f"{layer.value}.{table}")
        started = time.monotonic()
        try:
            result = work(spark.newSession() if own_session else spark, item)
        except Exception as error:  # one table's failure is reported, the others still run
            from medallion import delta_io  # Spark is running: a table's work raised

            if delta_io.is_concurrent_commit(error):  # the winner wrote the data, once
                result = exactly_once.lost_race(layer.value, table, error)
                result.seconds = time.monotonic() - started
                return result
            log.exception("%s.%s failed", layer.value, table)
            result = TableResult(layer=layer.value, table=table, status=Status.FAILED)
            result.messages.append(
                f"{layer.value} table {table!r} failed: {type(error).__name__}: {first_line(error)}"
            )
        result.seconds = time.monotonic() - started
        return result

    return map_tables(one, items, workers=count, name=layer.value)


def first_line(error: BaseException) -> str:
    """The first line of an error's message (Spark's carry a JVM stack trace)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:500]
