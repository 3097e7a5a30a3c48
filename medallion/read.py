"""Read any table of a lakehouse by name, ``<layer>.<table>``: for notebooks and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from medallion.layout import Lakehouse, Layer
from medallion.spec.contract import QUARANTINE_SUFFIX

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def parse_name(name: str) -> tuple[Layer, str]:
    """Split ``silver.customers`` into its layer and table; a clear error otherwise."""
    layer, _, table = name.partition(".")
    if not table or layer not in {layer.value for layer in Layer}:
        raise ValueError(f"table name {name!r} must look like <bronze|silver|gold>.<table>")
    return Layer(layer), table


def read_table(
    spark: SparkSession, name: str, lakehouse: Lakehouse | None = None, *, metadata: bool = False
) -> DataFrame:
    """The current rows of ``<layer>.<table>`` (e.g. ``gold.orders_daily``).

    Silver and gold keep bookkeeping in ``_``-prefixed columns; they are left out unless
    ``metadata`` is true. Bronze rows always come with their lineage.
    """
    from medallion import delta_io

    layer, table = parse_name(name)
    lakehouse = lakehouse or Lakehouse.at()
    path = lakehouse.table_path(layer, table)
    if not delta_io.is_delta(spark, path):
        raise ValueError(f"no Delta table {name} at {path}: run `medallion run` first")
    df = delta_io.read_delta(spark, path)
    if layer is Layer.BRONZE or metadata or table.endswith(QUARANTINE_SUFFIX):
        return df
    return df.select(*[c for c in df.columns if not c.startswith("_")])
