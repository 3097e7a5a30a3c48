"""What ``medallion status`` shows: per table its Delta version, rows, last run, quarantine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medallion.layout import Lakehouse, Layer
from medallion.spec import Domain

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _names(domain: Domain) -> list[tuple[Layer, str]]:
    names = [(Layer.BRONZE, t.name) for t in domain.tables]
    names += [(Layer.SILVER, t.name) for t in domain.tables]
    names += [(Layer.GOLD, m.name) for m in domain.gold_models]
    return names


def table_status(
    spark: SparkSession, lakehouse: Lakehouse, domain: Domain
) -> list[tuple[str, object, object, object, object]]:
    """One row per table: name, Delta version, rows, time of the last commit, quarantined rows."""
    from delta.tables import DeltaTable

    def describe(path: str) -> tuple[object, object, object]:
        if not DeltaTable.isDeltaTable(spark, path):
            return "-", "-", "never"
        last = DeltaTable.forPath(spark, path).history(1).select("version", "timestamp").first()
        rows = spark.read.format("delta").load(path).count()
        return (last[0], rows, f"{last[1]:%Y-%m-%d %H:%M:%S}") if last else ("-", rows, "-")

    rows = []
    for layer, name in _names(domain):
        version, count, when = describe(lakehouse.table_path(layer, name))
        quarantined: object = ""
        if layer is Layer.SILVER:
            path = lakehouse.table_path(layer, f"{name}_quarantine")
            quarantined = (
                spark.read.format("delta").load(path).count()
                if DeltaTable.isDeltaTable(spark, path)
                else 0
            )
        rows.append((f"{layer.value}.{name}", version, count, when, quarantined))
    return rows
