"""medallion: bronze -> silver -> gold lakehouse transforms on Spark + Delta Lake.

In a notebook::

    import medallion

    spark = medallion.get_spark()
    medallion.read_table(spark, "gold.orders_daily").show()
    medallion.gold.run_model("orders_daily", orders=orders, order_lines=lines)  # on DataFrames

Attributes that need Spark are loaded on first use, so ``import medallion.spec`` (what the
infrastructure reads) never imports pyspark.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "get_spark": ("medallion.session", "get_spark"),
    "read_table": ("medallion.read", "read_table"),
    "run": ("medallion.pipeline", "run"),
    "Lakehouse": ("medallion.layout", "Lakehouse"),
    "load_domain": ("medallion.spec", "load_domain"),
}
_SUBMODULES = {"bronze", "silver", "gold", "spec", "generate", "pipeline", "maintain", "catalog"}

__all__ = sorted([*_LAZY, *_SUBMODULES])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    if name in _SUBMODULES:
        return importlib.import_module(f"medallion.{name}")
    raise AttributeError(f"module 'medallion' has no attribute {name!r}")
