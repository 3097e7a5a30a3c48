"""Silver: the current state per key of every table, checked, applied like APPLY CHANGES.

``run_silver`` is the layer's entry point (:mod:`medallion.silver.runner`); the transforms
(:mod:`medallion.silver.transforms`, checks in :mod:`medallion.silver.quality`) are pure
DataFrame -> DataFrame functions a notebook can call on any bronze-shaped DataFrame.
"""

from medallion.silver.quality import Check, checks
from medallion.silver.runner import MAX_BAD_RATIO, SilverPaths, apply_table, run_silver
from medallion.silver.transforms import (
    accepted,
    current_state,
    latest_deletes,
    latest_per_key,
    order_key,
    quarantine_rows,
    silver_schema,
    to_silver_columns,
    undeclared_columns,
    with_checks,
    with_typed,
)

__all__ = [
    "MAX_BAD_RATIO",
    "Check",
    "SilverPaths",
    "accepted",
    "apply_table",
    "checks",
    "current_state",
    "latest_deletes",
    "latest_per_key",
    "order_key",
    "quarantine_rows",
    "run_silver",
    "silver_schema",
    "to_silver_columns",
    "undeclared_columns",
    "with_checks",
    "with_typed",
]
