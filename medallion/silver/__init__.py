"""Silver: the current state per key of every table, checked, applied like APPLY CHANGES.

``run_silver`` is the layer's entry point; the transforms are pure DataFrame -> DataFrame
functions a notebook can call on any bronze-shaped DataFrame.
"""

from medallion.silver.apply import MAX_BAD_RATIO, SilverPaths, apply_table, run_silver
from medallion.silver.quality import Check, checks
from medallion.silver.transforms import (
    accepted,
    current_state,
    latest_deletes,
    latest_per_key,
    order_key,
    quarantine_rows,
    quarantine_schema,
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
    "quarantine_schema",
    "run_silver",
    "silver_schema",
    "to_silver_columns",
    "undeclared_columns",
    "with_checks",
    "with_typed",
]
