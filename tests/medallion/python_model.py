"""Gold models written in Python, as a user's own module holds them: one with its scope function,
one without (recomputed in full on every change). Their YAML declarations are in
:mod:`tests.medallion.python_model_declarations`."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion.gold import Changes


def units_by_product(sales_items: DataFrame) -> DataFrame:
    """Units sold per product."""
    return sales_items.groupBy("product_id").agg(F.sum("quantity").cast("bigint").alias("units"))


def units_by_product_scope(changes: Changes) -> DataFrame:
    """The products whose items changed quantity or product (old and new product)."""
    return changes.images("sales_items", "product_id", "quantity").select("product_id")


def items_by_product(sales_items: DataFrame) -> DataFrame:
    """Items per product (no scope function: recomputed in full)."""
    return sales_items.groupBy("product_id").agg(F.count(F.lit(1)).alias("items"))
