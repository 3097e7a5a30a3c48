"""Table maintenance: Delta ``OPTIMIZE`` (compaction) then ``VACUUM`` on every table.

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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.results import Status
from medallion.spec import Domain

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: Delta's default ``delta.deletedFileRetentionDuration``: VACUUM refuses less unless forced.
SAFE_RETENTION_HOURS = 168
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
LISTING_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"
DELTA_LOG = "_delta_log"
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


def _filesystem(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """The Hadoop filesystem of ``uri`` (local, s3a://, s3:// on Glue) and its Path."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def find_tables(spark: SparkSession, root: str, depth: int = MAX_DEPTH) -> list[str]:
    """The name (path below ``root``) of every Delta table there, sorted.

    Folders holding a ``_delta_log`` are tables and are not descended into.
    """
    fs, path = _filesystem(spark, root)
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


def stored_files(spark: SparkSession, table_path: str) -> tuple[int, int]:
    """(files, bytes) of a table's data on storage: ``_delta_log`` and hidden files excluded.

    Change data files (``_change_data/``) count: VACUUM removes them too.
    """
    fs, path = _filesystem(spark, table_path)
    files = size = 0
    iterator = fs.listFiles(path, True)
    while iterator.hasNext():
        status = iterator.next()
        relative = _relative(path, status.getPath())
        if relative.startswith(f"{DELTA_LOG}/") or relative.rsplit("/", 1)[-1].startswith("."):
            continue
        files += 1
        size += int(status.getLen())
    return files, size


def active_files(spark: SparkSession, table_path: str) -> int:
    """Files of the table's current snapshot (``DESCRIBE DETAIL`` numFiles)."""
    row = spark.sql(f"DESCRIBE DETAIL delta.`{table_path}`").select("numFiles").first()
    return int(row[0] or 0) if row else 0


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
    from delta.tables import DeltaTable

    started = time.monotonic()
    result = MaintainResult(layer=layer, table=name, path=table_path)
    try:
        check_retention(retention_hours, force)
        result.files_before = active_files(spark, table_path)
        result.stored_before, result.bytes_before = stored_files(spark, table_path)
        table = DeltaTable.forPath(spark, table_path)
        table.optimize().executeCompaction()
        result.files_after = active_files(spark, table_path)
        with session_conf(spark, vacuum_settings(spark, force)):
            table.vacuum(float(retention_hours))
        result.stored_after, result.bytes_after = stored_files(spark, table_path)
    except Exception as error:  # one table's failure is reported, the others are still maintained
        log.exception("maintain %s.%s failed", layer, name)
        result.status = Status.FAILED
        result.messages.append(f"{type(error).__name__}: {error}")
    result.seconds = time.monotonic() - started
    log.info("%s", result)
    return result


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
    domain: Domain,
    *,
    retention_hours: float = SAFE_RETENTION_HOURS,
    force: bool = False,
    layers: Sequence[Layer | str] = LAYERS,
) -> list[MaintainResult]:
    """OPTIMIZE and VACUUM every table of every layer; one result per table.

    Raises ``ValueError`` before touching any table when ``retention_hours`` is below
    :data:`SAFE_RETENTION_HOURS` and ``force`` is false.
    """
    del domain  # every Delta table on storage is maintained, declared or bookkeeping
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
