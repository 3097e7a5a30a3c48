"""What ``medallion status`` shows: per table its Delta version, rows, last run, quarantine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medallion.layout import Lakehouse, Layer
from medallion.spec import Domain
from medallion.spec.contract import quarantine_name

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
    from medallion import delta_io

    def describe(path: str) -> tuple[object, object, object]:
        if not delta_io.is_delta(spark, path):
            return "-", "-", "never"
        last = delta_io.last_commit(spark, path)
        rows = delta_io.read_delta(spark, path).count()
        return (last[0], rows, f"{last[1]:%Y-%m-%d %H:%M:%S}") if last else ("-", rows, "-")

    rows = []
    for layer, name in _names(domain):
        version, count, when = describe(lakehouse.table_path(layer, name))
        quarantined: object = ""
        if layer is Layer.SILVER:
            path = lakehouse.table_path(layer, quarantine_name(name))
            quarantined = (
                delta_io.read_delta(spark, path).count() if delta_io.is_delta(spark, path) else 0
            )
        rows.append((f"{layer.value}.{name}", version, count, when, quarantined))
    return rows
