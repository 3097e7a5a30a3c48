"""Silver's data layout: rows clustered by primary key, so a MERGE rewrites few files.

A change batch mostly touches recent keys (OLTP databases update what they just inserted), but
a table written in arrival order, or hash-partitioned by Spark's shuffle, holds every key range
in every file: a copy-on-write MERGE then rewrites nearly every file for a 1% batch. Silver
therefore (docs/contract.md#silver):

* writes its first version range-partitioned and sorted by the table's first primary-key
  column, at most :data:`FILE_ROWS` (100,000) rows per file, so each file holds one narrow key
  range (its min/max statistics say which);
* bounds each MERGE's join with the batch's key range (``t.key BETWEEN lo AND hi``), a
  predicate on the target alone, which Delta uses to skip the files outside it before joining;
* records the clustering column in the table property ``medallion.clusterBy``, from which
  weekly maintenance re-clusters the table (``OPTIMIZE ... ZORDER BY``) into files of the same
  size, so files added by later MERGEs regain narrow ranges (:mod:`medallion.maintain`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.spec import Table
from medallion.spec.contract import CLUSTER_BY_PROPERTY, CLUSTERED_FILE_ROWS, SILVER_PROPERTIES

#: Rows per file of a clustered write (module-level, so tests can make files small).
FILE_ROWS = CLUSTERED_FILE_ROWS


def cluster_column(table: Table) -> str:
    """The column silver clusters the table by: its first primary-key column."""
    return table.primary_key[0]


def silver_properties(table: Table) -> dict[str, str]:
    """The properties a silver table is created with (its clustering column among them)."""
    return {**SILVER_PROPERTIES, CLUSTER_BY_PROPERTY: cluster_column(table)}


def clustered(df: DataFrame, table: Table, partitions: int) -> DataFrame:
    """``df`` range-partitioned into ``partitions`` and sorted by the clustering column."""
    column = F.col(f"`{cluster_column(table)}`")
    return df.repartitionByRange(partitions, column).sortWithinPartitions(column)


def key_range(table: Table, low: Any, high: Any, alias: str = "t") -> str | None:
    """``alias.key BETWEEN low AND high`` as SQL, or None when a bound is missing or of a type
    without a literal here (the MERGE then scans every file, as before)."""
    bounds = [sql_literal(low), sql_literal(high)]
    if None in bounds:
        return None
    return f"{alias}.`{cluster_column(table)}` BETWEEN {bounds[0]} AND {bounds[1]}"


def sql_literal(value: Any) -> str | None:
    """A Spark SQL literal equal to ``value`` (int, decimal, string or date), else None.

    Timestamps get none: PySpark returns them in the Python process's time zone, which need not
    be the session's, and a bound off by hours would make the MERGE miss rows.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return f"{value}BD" if value.is_finite() else None
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace("'", "\\'")
        return f"'{escaped}'"
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return None
