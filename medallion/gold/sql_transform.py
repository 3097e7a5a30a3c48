"""Run a SQL gold model on DataFrames: the silver tables it names are bound to the ones given.

A notebook runs any gold model (SQL or Python) on DataFrames it passes in::

    from medallion.gold import run_model
    run_model("orders_daily", orders=orders, order_lines=lines)

Each DataFrame is registered as a temporary view under a name unique to the call, the query's
table references are rewritten to those names (with sqlglot, keeping their aliases), and the
views are dropped once Spark has analysed the query (the result keeps their plans).
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from sqlglot import exp

from medallion.spec import Domain, GoldModel, SpecError, domain_path, load_domain
from medallion.spec.sql_model import DIALECT, load_sql_model, parse_query

_COUNTER = itertools.count()
_COUNTER_LOCK = threading.Lock()


def view_name(label: str) -> str:
    """A temporary view name unique in this process (``label`` keeps plans readable)."""
    with _COUNTER_LOCK:
        number = next(_COUNTER)
    return f"_gold_{label}_{uuid.uuid4().hex[:8]}_{number}"


class Views:
    """Temporary views registered for one piece of work, dropped together."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self.names: list[str] = []

    def add(self, df: DataFrame, label: str) -> str:
        name = view_name(label)
        df.createOrReplaceTempView(name)
        self.names.append(name)
        return name

    def sql(self, query: exp.Expr) -> DataFrame:
        return self.spark.sql(query.sql(DIALECT))

    def drop(self) -> None:
        for name in self.names:
            self.spark.catalog.dropTempView(name)
        self.names.clear()


@contextmanager
def views(spark: SparkSession) -> Iterator[Views]:
    registered = Views(spark)
    try:
        yield registered
    finally:
        registered.drop()


def bind_tables(query: exp.Expr, names: Mapping[str, str]) -> exp.Expr:
    """A copy of ``query`` whose references to table ``t`` read view ``names[t]`` instead.

    A reference keeps its alias (its own name when it had none), so the columns still resolve.
    Names not in ``names`` (CTEs) are left alone.
    """
    bound = query.copy()
    ctes = {cte.alias for cte in bound.find_all(exp.CTE)}
    for table in list(bound.find_all(exp.Table)):
        if table.db or table.name in ctes or table.name not in names:
            continue
        alias = table.alias or table.name
        table.replace(exp.to_table(names[table.name]).as_(alias, table=True))
    return bound


def run_sql(model: GoldModel, tables: Mapping[str, DataFrame]) -> DataFrame:
    """The rows of SQL model ``model`` over ``tables`` (one DataFrame per source)."""
    missing = [s for s in model.sources if s not in tables]
    if missing:
        raise SpecError(f"gold model {model.name!r} needs tables {missing}")
    spark = tables[model.sources[0]].sparkSession
    query = parse_query(model.sql, where=f"gold model {model.name!r}")
    with views(spark) as registered:
        names = {s: registered.add(tables[s], s) for s in model.sources}
        return registered.sql(bind_tables(query, names))


def transform_of(model: GoldModel) -> Callable[..., DataFrame]:
    """``model``'s SQL as a transform taking its sources as keyword arguments."""

    def transform(**tables: DataFrame) -> DataFrame:
        return run_sql(model, tables)

    transform.__name__ = model.name
    return transform


def run_model(
    model: str | GoldModel | Path,
    /,
    *,
    domain: Domain | None = None,
    **tables: DataFrame,
) -> DataFrame:
    """Any gold model run on the DataFrames given (keyword = silver table name).

    ``model`` is a declared model, its name in ``domain`` (default: the domain at
    ``$MEDALLION_DOMAIN`` or ``./domain``), or the path of a ``.sql`` model file. The result
    has exactly the declared columns and types.
    """
    from medallion.gold.runner import conform, resolve

    domain = load_domain(domain_path()) if domain is None else domain
    if isinstance(model, Path):
        model = load_sql_model(model, domain.tables)
    elif isinstance(model, str):
        model = domain.gold_model(model)
    transform, _ = resolve(model)
    return conform(transform(**{s: tables[s] for s in model.sources}), model)
