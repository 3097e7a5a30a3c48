"""A set of gold rows to recompute, named by the values of some of their columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F


@dataclass(frozen=True)
class Scope:
    """The rows whose ``columns`` take one of ``values`` (tuples, NULL-safe)."""

    columns: tuple[str, ...]
    values: frozenset[tuple[Any, ...]]

    @classmethod
    def collect(cls, keys: DataFrame) -> Scope:
        """The distinct rows of ``keys`` (a small DataFrame), brought to the driver."""
        rows = keys.distinct().collect()
        return cls(tuple(keys.columns), frozenset(tuple(row) for row in rows))

    def __len__(self) -> int:
        return len(self.values)

    def condition(self, qualifier: str = "") -> Column:
        """True for a row inside the scope; literals only, so Delta can skip files with it."""
        prefix = f"{qualifier}." if qualifier else ""
        if not self.values:
            return F.lit(False)
        if len(self.columns) == 1:
            column = F.col(f"{prefix}{self.columns[0]}")
            present = sorted({v[0] for v in self.values if v[0] is not None})
            parts = [column.isin(present)] if present else []
            if any(v[0] is None for v in self.values):
                parts.append(column.isNull())
            return reduce(lambda a, b: a | b, parts)
        rows = sorted(self.values, key=repr)
        return _any([_row_condition(prefix, self.columns, value) for value in rows])

    def describe(self, limit: int = 5) -> str:
        """E.g. ``3 sale_date values (2024-01-02, 2024-01-03, ...)``."""
        shown = sorted(_show(v) for v in self.values)[:limit]
        more = ", ..." if len(self.values) > limit else ""
        return f"{len(self.values)} {', '.join(self.columns)} values ({', '.join(shown)}{more})"


def _any(conditions: Sequence[Column]) -> Column:
    """OR of ``conditions`` as a balanced tree (a long chain would nest thousands deep)."""
    if len(conditions) == 1:
        return conditions[0]
    middle = len(conditions) // 2
    return _any(conditions[:middle]) | _any(conditions[middle:])


def _row_condition(prefix: str, columns: Sequence[str], value: tuple[Any, ...]) -> Column:
    return reduce(
        lambda a, b: a & b,
        [F.col(f"{prefix}{c}").eqNullSafe(F.lit(v)) for c, v in zip(columns, value, strict=True)],
    )


def _show(value: tuple[Any, ...]) -> str:
    parts = ["NULL" if v is None else str(v) for v in value]
    return parts[0] if len(parts) == 1 else f"({', '.join(parts)})"
