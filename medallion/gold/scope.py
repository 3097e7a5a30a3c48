"""A set of gold rows to recompute, named by the values of some of their columns."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from medallion import delta_io

#: Values shown when a scope is described.
SAMPLE = 5
#: Up to this many values the scope is broadcast to every join that restricts to it.
BROADCAST_LIMIT = 1_000_000


@dataclass(frozen=True)
class Scope:
    """The rows whose ``columns`` take one of the (distinct, materialised) ``keys`` rows.

    The scope stays a DataFrame: it restricts other DataFrames with a NULL-safe semi-join,
    which Spark pushes below aggregates and joins on those columns, however many values there
    are (a literal ``IN`` list costs seconds per query beyond a few hundred values).
    """

    keys: DataFrame
    size: int
    sample: tuple[tuple[Any, ...], ...]
    #: Why this scope was chosen over a full recompute (shown after the values).
    note: str = ""

    @classmethod
    def of(cls, keys: DataFrame, *, computed: bool = False) -> Scope:
        """The distinct rows of ``keys``, computed once (until :meth:`release`).

        ``computed``: ``keys`` is already distinct and computed (a :func:`delta_io.checkpoint`
        the scope takes over and frees).
        """
        distinct = keys if computed else delta_io.checkpoint(keys.distinct())
        size = distinct.count()
        first = distinct.orderBy(*keys.columns).limit(SAMPLE).collect() if size else []
        return cls(distinct, size, tuple(tuple(row) for row in first))

    def release(self) -> None:
        """Free the computed keys (the scope is not used after this)."""
        delta_io.release(self.keys)

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.keys.columns)

    def restrict(self, df: DataFrame) -> DataFrame:
        """The rows of ``df`` inside the scope.

        With several columns, each column's values alone restrict ``df`` first: a looser
        condition that Spark can push further down than the whole key, below a join to the
        one table that column comes from (``sale_date`` to ``sales``, where ``(sale_date,
        category)`` stops above the join of ``sales`` and ``products``).
        """
        for column in self.columns if len(self.columns) > 1 else ():
            df = _semi_join(df, self.keys.select(column).distinct(), self.size)
        return _semi_join(df, self.keys, self.size)

    def describe(self) -> str:
        """E.g. ``3 sale_date values (2024-01-02, 2024-01-03, 2024-01-09)``."""
        shown = ", ".join(_show(v) for v in self.sample)
        more = ", ..." if self.size > len(self.sample) else ""
        note = f" ({self.note})" if self.note else ""
        return f"{self.size} {', '.join(self.columns)} values ({shown}{more}){note}"


def _semi_join(df: DataFrame, keys: DataFrame, size: int) -> DataFrame:
    """The rows of ``df`` whose ``keys.columns`` equal (NULL-safe) a row of ``keys``."""
    columns = keys.columns
    # Renamed, so that a ``df`` read from the same tables cannot make the condition trivial.
    keys = keys.select([F.col(c).alias(f"_scope_{c}") for c in columns])
    keys = F.broadcast(keys) if size <= BROADCAST_LIMIT else keys
    condition = reduce(lambda a, b: a & b, [df[c].eqNullSafe(keys[f"_scope_{c}"]) for c in columns])
    return df.join(keys, condition, "left_semi")


def _show(value: tuple[Any, ...]) -> str:
    parts = ["NULL" if v is None else str(v) for v in value]
    return parts[0] if len(parts) == 1 else f"({', '.join(parts)})"
