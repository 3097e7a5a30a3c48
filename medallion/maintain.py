"""Table maintenance: Delta ``OPTIMIZE`` (compaction) then ``VACUUM`` on every table.

A table clustered by a key (silver: the ``medallion.clusterBy`` property, see
:mod:`medallion.silver.clustering`) is re-clustered instead: ``OPTIMIZE ... ZORDER BY`` that key,
into files of at most 100,000 rows, so that each file again holds one narrow key range.

Incremental runs write many small files (bronze appends one commit per run and table; silver and
gold merge small changes). ``maintain`` compacts them and removes the files no snapshot within the
retention needs any more, reporting per table the active files (from the Delta log) and the data
files on storage before and after.

Every Delta table below the layer roots is maintained: the declared tables, their quarantines and
any bookkeeping table a layer keeps. The retention never goes below Delta's safe default (7 days,
what ``delta.deletedFileRetentionDuration`` defaults to) unless forced: readers and writers that
started before a VACUUM may still need the files it deletes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from medallion import delta_io
from medallion.delta_io import LISTING_PARALLELISM, RETENTION_CHECK, stored_files
from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.results import Status
from medallion.spec.contract import (
    CLUSTER_BY_PROPERTY,
    CLUSTERED_FILE_ROWS,
    SAFE_RETENTION_HOURS,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

__all__ = [
    "LISTING_PARALLELISM",
    "MAX_DEPTH",
    "RETENTION_CHECK",
    "SAFE_RETENTION_HOURS",
    "MaintainResult",
    "check_retention",
    "find_tables",
    "maintain",
    "maintain_table",
    "stored_files",
    "tables_to_maintain",
]

#: How deep below a layer root to look for Delta tables (``gold/_state/<model>`` is depth 2).
MAX_DEPTH = 3


@dataclass
class MaintainResult:
    """One table's maintenance: active files (Delta log) and data files on storage."""

    layer: str
    table: str
    path: str
    status: Status = Status.OK
    #: Active files of the current snapshot before and after OPTIMIZE.
    files_before: int = 0
    files_after: int = 0
    #: Data files on storage (``_delta_log`` excluded) before OPTIMIZE and after VACUUM.
    stored_before: int = 0
    stored_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    messages: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status is Status.FAILED

    def __str__(self) -> str:
        text = (
            f"{self.layer}.{self.table}: {self.status}; active files "
            f"{self.files_before} -> {self.files_after}, files on storage "
            f"{self.stored_before} -> {self.stored_after} ({self.seconds:.1f}s)"
        )
        return text + "".join(f"; {m}" for m in self.messages)


def check_retention(retention_hours: float, force: bool) -> None:
    """Refuse a retention below the safe default unless ``force``."""
    if retention_hours < 0:
        raise ValueError(f"retention_hours must be >= 0, got {retention_hours}")
    if retention_hours < SAFE_RETENTION_HOURS and not force:
        raise ValueError(
            f"retention_hours={retention_hours} is below Delta's safe default of "
            f"{SAFE_RETENTION_HOURS} hours: concurrent readers could lose files; pass force=True "
            "(--force) if no job or query runs against the lakehouse meanwhile"
        )


def find_tables(spark: SparkSession, root: str, depth: int = MAX_DEPTH) -> list[str]:
    """The name (path below ``root``) of every Delta table there, sorted."""
    return delta_io.find_tables(spark, root, depth)


def maintain_table(
    spark: SparkSession,
    layer: str,
    name: str,
    table_path: str,
    *,
    retention_hours: float = SAFE_RETENTION_HOURS,
    force: bool = False,
) -> MaintainResult:
    """OPTIMIZE then VACUUM one table; failures are reported in the result, not raised."""
    started = time.monotonic()
    result = MaintainResult(layer=layer, table=name, path=table_path)
    try:
        check_retention(retention_hours, force)
        result.files_before = delta_io.active_files(spark, table_path)
        result.stored_before, result.bytes_before = stored_files(spark, table_path)
        cluster_by = delta_io.table_property(spark, table_path, CLUSTER_BY_PROPERTY)
        if cluster_by:
            delta_io.optimize(
                spark, table_path, zorder_by=[cluster_by], max_rows_per_file=CLUSTERED_FILE_ROWS
            )
            result.messages.append(f"re-clustered by {cluster_by}")
        else:
            delta_io.optimize(spark, table_path)
        result.files_after = delta_io.active_files(spark, table_path)
        delta_io.vacuum(spark, table_path, retention_hours, force=force)
        result.stored_after, result.bytes_after = stored_files(spark, table_path)
    except Exception as error:  # one table's failure is reported, the others are still maintained
        log.exception("maintain %s.%s failed", layer, name)
        result.status = Status.FAILED
        result.messages.append(f"{type(error).__name__}: {error}")
    result.seconds = time.monotonic() - started
    log.info("%s", result)
    return result


def tables_to_maintain(
    spark: SparkSession, lakehouse: Lakehouse, layers: Sequence[Layer | str] = LAYERS
) -> list[tuple[Layer, str]]:
    """(layer, table name) of every Delta table below the layer roots."""
    return [
        (layer, name)
        for layer in map(Layer, layers)
        for name in find_tables(spark, lakehouse.layer_root(layer))
    ]


def maintain(
    spark: SparkSession,
    lakehouse: Lakehouse,
    *,
    retention_hours: float = SAFE_RETENTION_HOURS,
    force: bool = False,
    layers: Sequence[Layer | str] = LAYERS,
) -> list[MaintainResult]:
    """OPTIMIZE and VACUUM every table of ``layers`` (default all); one result per table.

    Every Delta table on storage is maintained, declared or bookkeeping.

        Raises ``ValueError`` before touching any table when ``retention_hours`` is below
        :data:`SAFE_RETENTION_HOURS` and ``force`` is false.
    """
    check_retention(retention_hours, force)
    return [
        maintain_table(
            spark,
            layer.value,
            name,
            lakehouse.table_path(layer, name),
            retention_hours=retention_hours,
            force=force,
        )
        for layer, name in tables_to_maintain(spark, lakehouse, layers)
    ]
