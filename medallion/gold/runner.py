"""Gold's runner: one declared mart refreshed from silver, incrementally.

For each :class:`~medallion.spec.GoldModel` the runner, driven only by the declaration:

1. pins every source (silver table) at its latest version, once per run for all models;
2. compares those versions with the ones the mart last consumed (:mod:`medallion.gold.state`):
   equal everywhere -> nothing is read or written;
3. reads each changed source's Change Data Feed since the consumed version and finds the gold
   column values the changes touch: derived from the query for a SQL model
   (:mod:`medallion.gold.sql_scope`, which also falls back to a full recompute when that is
   cheaper), or by the scope function a Python model declares (``scope``);
4. recomputes the transform for those values only (a semi-join of its output with the scope,
   which Spark pushes below the aggregates towards the silver scans) and replaces them in gold
   with one MERGE of the difference (:func:`write_difference`): changed rows updated, new
   ones inserted, rows of the scope that no longer exist deleted; rows outside the scope and
   unchanged rows are not rewritten, and a recompute that changes nothing commits nothing;
5. records the consumed versions, after the gold commit.

A full recompute (same MERGE without the scope, or a fresh write when the gold table is missing
or its columns or partitioning differ from the declaration) happens on the first run, without a
readable state, when a silver or gold table was recreated, when the change feed of the range is
no longer available (log cleanup, VACUUM, CDF enabled late), when a Python mart declares no
scope function, when a SQL model's scope cannot be derived or is not worth it, or when the
mart's last scoped refresh took longer than its last full recompute (the state keeps both
times), or, before its first scoped refresh, when its last full recompute took less than
:data:`SCOPED_MIN_FULL_SECONDS`. Either way the result equals a full recompute from the pinned
silver versions.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce

from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion import delta_io
from medallion.gold import sql_scope, sql_transform
from medallion.gold.changes import CHANGE_TYPE, COMMIT_VERSION, Changes
from medallion.gold.scope import Scope
from medallion.gold.state import GoldState, TableVersion, load_state, save_state, state_path
from medallion.layout import Lakehouse, Layer
from medallion.results import TableResult
from medallion.runner import Progress, first_line, run_tables
from medallion.session import sized_for
from medallion.spec import Domain, GoldModel, Table
from medallion.spec.contract import GOLD_PROPERTIES

#: Marks, in the MERGE source, a gold row of the scope that the recompute no longer has.
DELETE = "_gold_delete"
#: The two paths of a refresh, whose last durations the state keeps.
FULL, SCOPED = "full", "scoped"
#: A mart whose last scoped refresh took more than this many times its last full recompute is
#: recomputed in full, without deriving a scope. Each full recompute updates its own time, so
#: the scoped path comes back once the full one has grown dearer than it.
SCOPED_COST_LIMIT = 1.0
#: Until its first scoped refresh, a mart is recomputed in full while its last full recompute
#: took less than this: deriving a scope and merging it runs some 40 to 80 Spark jobs and still
#: reads the silver tables whole, which cost more than recomputing every mart of the demo at
#: scales 1 and 4 (``benchmarks/gold.py`` runs both paths; docs/sql-models.md).
SCOPED_MIN_FULL_SECONDS = 30.0

Transform = Callable[..., DataFrame]
ScopeFunction = Callable[[Changes], DataFrame]
#: A source's change feed after a version, and its row count (:meth:`Pins.changes`).
FeedReader = Callable[["Source", int], tuple[DataFrame, int]]


class GoldError(RuntimeError):
    """A gold model cannot be refreshed; the message names the model and the cause."""


@dataclass(frozen=True)
class Source:
    """A silver table pinned at one version for the whole run."""

    table: Table
    path: str
    id: str
    version: int

    def read(self, spark: SparkSession) -> DataFrame:
        return delta_io.read_delta(spark, self.path, self.version).select(*self.table.column_names)

    def changes_after(self, spark: SparkSession, version: int) -> DataFrame:
        """Change Data Feed rows of versions ``version + 1 .. self.version``."""
        return delta_io.read_changes(spark, self.path, version, self.version).select(
            *self.table.column_names, CHANGE_TYPE, COMMIT_VERSION
        )


@dataclass
class _Feed:
    """One source's change feed after one version: read once, then shared."""

    lock: threading.Lock
    frame: DataFrame | None = None
    rows: int = 0


class Pins:
    """The silver version each source is read at: pinned on first use, shared by the marts of
    a run (thread-safe), so that they all see the same silver; and the change feeds the marts
    read, each read once per run however many marts consume it (:meth:`changes`)."""

    def __init__(self, spark: SparkSession, lakehouse: Lakehouse) -> None:
        self._spark, self._lakehouse = spark, lakehouse
        self._sources: dict[str, Source] = {}
        self._feeds: dict[tuple[str, int], _Feed] = {}
        self._lock = threading.Lock()

    def __getitem__(self, table: Table) -> Source:
        with self._lock:
            if table.name not in self._sources:
                self._sources[table.name] = _pin(self._spark, self._lakehouse, table)
            return self._sources[table.name]

    def changes(self, source: Source, after: int) -> tuple[DataFrame, int]:
        """``source``'s Change Data Feed after version ``after`` (up to its pinned version) and
        its row count. The first mart that asks reads it; the executors keep it (memory, then
        disk) for the others until :meth:`release`."""
        with self._lock:
            feed = self._feeds.setdefault((source.table.name, after), _Feed(threading.Lock()))
        with feed.lock:
            if feed.frame is None:
                frame = source.changes_after(self._spark, after)
                frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
                try:
                    feed.rows = frame.count()
                except BaseException:
                    frame.unpersist()
                    raise
                feed.frame = frame
            return feed.frame, feed.rows

    def release(self) -> None:
        """Free the change feeds kept for the run."""
        with self._lock:
            feeds, self._feeds = list(self._feeds.values()), {}
        for feed in feeds:
            if feed.frame is not None:
                feed.frame.unpersist()


def run_gold(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    models: Sequence[str] | None = None,
    *,
    parallelism: int | None = None,
    progress: Progress | None = None,
) -> list[TableResult]:
    """Refresh the gold marts (all declared ones, or ``models``); one result per mart.

    Marts are refreshed concurrently, ``parallelism`` (default ``$MEDALLION_PARALLELISM``, 4)
    at a time: each writes its own table, and Spark runs their jobs side by side, which hides
    the per-job latency of small refreshes.
    A mart that fails gets a FAILED result naming it and the cause; the others still run.
    """
    names = list(models) if models is not None else [m.name for m in domain.gold_models]
    pins = Pins(spark, lakehouse)

    def one(session: SparkSession, name: str) -> TableResult:
        result = TableResult(layer=Layer.GOLD.value, table=name)
        refresh(session, lakehouse, domain, domain.gold_model(name), result, pins)
        return result

    try:
        with sized_for(spark, _source_bytes(spark, lakehouse, domain, names)):
            return run_tables(
                spark, Layer.GOLD, names, one, name=str, progress=progress, workers=parallelism
            )
    finally:
        pins.release()


def _source_bytes(
    spark: SparkSession, lakehouse: Lakehouse, domain: Domain, names: Sequence[str]
) -> int | None:
    """Bytes of the silver tables the marts read, from their Delta logs (None when a log
    does not say). The marts share the run's session, so its size sets their mode."""
    sources = {source for name in names for source in domain.gold_model(name).sources}
    total = 0
    for source in sorted(sources):
        path = lakehouse.table_path(Layer.SILVER, source)
        size = delta_io.table_bytes(spark, path) if delta_io.is_delta(spark, path) else 0
        if size is None:
            return None
        total += size
    return total


def refresh(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    model: GoldModel,
    result: TableResult,
    pins: Pins | None = None,
) -> None:
    """Bring one mart up to date with silver (see the module docstring)."""
    if pins is None:
        pins = Pins(spark, lakehouse)
        try:
            return refresh(spark, lakehouse, domain, model, result, pins)
        finally:
            pins.release()
    started = time.monotonic()
    transform, scope_function = resolve(model)
    sources = {name: pins[domain.table(name)] for name in model.sources}
    gold_path = lakehouse.table_path(Layer.GOLD, model.name)
    stored = state_path(lakehouse.gold, model.name)
    gold = _gold_version(spark, gold_path, model)
    state = load_state(spark, stored, model.name)

    reason = _full_reason(model, gold, state, sources)
    if reason is None and state is not None:
        if all(state.sources[n].version == s.version for n, s in sources.items()):
            result.messages.append("up to date: no silver change since the last run")
            return
        if scope_function is None and not model.sql:
            reason = f"no scope function declared for {model.transform} (scope: module:function)"
        reason = reason or _dearer_scope(state)
    scope: Scope | None = None
    if reason is None and state is not None and model.sql:
        # A SQL model's scope is derived from its query (medallion.gold.sql_scope).
        scope, reason, result.rows_in = sql_scope.derive(
            spark, model, sources, state, gold_path, pins.changes
        )
    elif reason is None and state is not None and scope_function is not None:
        scope, reason, result.rows_in = _scope(
            spark, model, sources, state, scope_function, pins.changes
        )

    inputs = {name: source.read(spark) for name, source in sources.items()}
    try:
        if reason is not None:
            new = conform(transform(**inputs), model)
            metrics = _write_full(spark, gold_path, new, model, recreate=gold is None)
            result.messages.append(f"full recompute: {reason}; {_describe(metrics)}")
        elif scope is not None and scope.size:
            new = scope.restrict(conform(transform(**inputs), model))
            metrics = write_difference(spark, gold_path, new, model, scope)
            result.messages.append(f"incremental: {scope.describe()}; {_describe(metrics)}")
        else:
            metrics = {}
            result.messages.append("incremental: the silver changes touch no gold row")
    finally:
        if scope is not None:
            scope.release()
    # rows_out: gold rows inserted, updated or deleted.
    if _MERGED in metrics:
        result.rows_out = sum(metrics.get(k, 0) for k in _WRITTEN)
    else:
        result.rows_out = metrics.get("numOutputRows", 0)

    after = delta_io.table_state(spark, gold_path)
    seconds = dict(state.seconds) if state is not None else {}
    path = FULL if reason is not None else SCOPED if scope is not None and scope.size else None
    if path is not None:
        seconds[path] = time.monotonic() - started
    save_state(
        spark,
        stored,
        GoldState(
            model=model.name,
            gold=TableVersion(after.table_id, after.version),
            sources={n: TableVersion(s.id, s.version) for n, s in sources.items()},
            seconds=seconds,
        ),
    )


def _dearer_scope(state: GoldState) -> str | None:
    """Why to recompute in full when the last scoped refresh cost more than the last full
    recompute, or, before any scoped refresh, when the last full recompute was too quick to
    be beaten (see :data:`SCOPED_MIN_FULL_SECONDS`); None otherwise."""
    full, scoped = state.seconds.get(FULL), state.seconds.get(SCOPED)
    if full is not None and scoped is None and full < SCOPED_MIN_FULL_SECONDS:
        return (
            f"the last full recompute took {full:.1f}s, under the {SCOPED_MIN_FULL_SECONDS:.0f}s "
            "below which deriving a scope costs more than it saves"
        )
    if full is None or scoped is None or scoped <= full * SCOPED_COST_LIMIT:
        return None
    return (
        f"the last scoped refresh took {scoped:.1f}s, more than the last full recompute "
        f"({full:.1f}s)"
    )


def resolve(model: GoldModel) -> tuple[Transform, ScopeFunction | None]:
    """The model's transform and its declared scope function (None: SQL models, whose scope
    is derived from the query, and Python models that declare none)."""
    if model.sql:
        return sql_transform.transform_of(model), None
    transform = _load(model.transform, "transform")
    return transform, _load(model.scope, "scope function") if model.scope else None


def _load(reference: str, what: str) -> Callable[..., DataFrame]:
    module_name, function_name = reference.split(":", 1)
    try:
        return getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise GoldError(f"cannot load {what} {reference!r}: {error}") from error


def conform(df: DataFrame, model: GoldModel) -> DataFrame:
    """``df`` with exactly the declared columns, in order, cast to the declared types."""
    declared = model.column_names
    if sorted(df.columns) != sorted(declared):
        raise GoldError(
            f"{model.transform or 'the SQL of ' + model.name} returned columns {df.columns}, "
            f"declared {list(declared)}"
        )
    return df.select(*[F.col(c.name).cast(c.type).alias(c.name) for c in model.columns])


def write_difference(
    spark: SparkSession, path: str, new: DataFrame, model: GoldModel, scope: Scope | None
) -> dict[str, int]:
    """Make the gold rows of ``scope`` (all rows when None) equal ``new``, in one commit.

    The difference is computed first, against the gold rows of the scope: rows of ``new`` that
    gold does not hold identically (inserts and updates, matched on the grain, NULL-safe) and
    gold rows whose grain ``new`` no longer has (deletes). Only that difference goes into the
    MERGE, so Delta rewrites only the files holding a row that changes, and an unchanged
    recompute commits nothing. Returns the commit's operation metrics (empty when nothing
    changed).
    """
    current = delta_io.read_delta(spark, path)
    if scope is not None:
        current = scope.restrict(current)
    # Computed once: the MERGE gets a small, fixed source.
    difference = delta_io.checkpoint(compare(new, current, model))
    try:
        if difference.isEmpty():
            return {}
        return delta_io.merge_rows(
            spark,
            path,
            difference,
            on=_all([F.col(f"t.{c}").eqNullSafe(F.col(f"s.{c}")) for c in model.grain]),
            columns=model.column_names,
            keys=model.grain,
            delete_flag=DELETE,
        )
    finally:
        delta_io.release(difference)


def compare(new: DataFrame, current: DataFrame, model: GoldModel) -> DataFrame:
    """The rows that turn ``current`` into ``new``: the model's columns plus :data:`DELETE`.

    One full outer join on the grain (NULL-safe): a row only in ``new``, or in both with a
    difference in any column, is an upsert (its ``new`` values); a row only in ``current`` is a
    delete (its ``current`` values). Identical rows are left out.
    """
    columns = model.column_names
    fresh = new.select(
        F.lit(True).alias("_in_new"), *[F.col(c).alias(f"_new_{c}") for c in columns]
    )
    held = current.select(
        F.lit(True).alias("_in_old"), *[F.col(c).alias(f"_old_{c}") for c in columns]
    )
    joined = fresh.join(
        held,
        _all([fresh[f"_new_{c}"].eqNullSafe(held[f"_old_{c}"]) for c in model.grain]),
        "full_outer",
    )
    gone = F.col("_in_new").isNull()
    differs = F.col("_in_old").isNull() | ~_all(
        [F.col(f"_new_{c}").eqNullSafe(F.col(f"_old_{c}")) for c in columns]
    )
    return joined.filter(gone | differs).select(
        *[F.when(gone, F.col(f"_old_{c}")).otherwise(F.col(f"_new_{c}")).alias(c) for c in columns],
        gone.alias(DELETE),
    )


def _write_full(
    spark: SparkSession, path: str, new: DataFrame, model: GoldModel, *, recreate: bool
) -> dict[str, int]:
    if not recreate:
        return write_difference(spark, path, new, model, None)
    return delta_io.overwrite(
        spark, new, path, partition_by=model.partition_by, properties=GOLD_PROPERTIES
    )


def _scope(
    spark: SparkSession,
    model: GoldModel,
    sources: dict[str, Source],
    state: GoldState,
    scope_function: ScopeFunction,
    changes_of: FeedReader,
) -> tuple[Scope | None, str | None, int]:
    """The scope of the unconsumed changes (or the reason to recompute everything instead),
    and how many change rows were read."""
    feeds: dict[str, DataFrame] = {}
    read = 0
    current = {name: source.read(spark) for name, source in sources.items()}
    for name, source in sources.items():
        consumed = state.sources[name].version
        if consumed == source.version:
            feeds[name] = (
                current[name]
                .limit(0)
                .select(
                    "*",
                    F.lit(None).cast("string").alias(CHANGE_TYPE),
                    F.lit(None).cast("bigint").alias(COMMIT_VERSION),
                )
            )
            continue
        try:
            feeds[name], rows = changes_of(source, consumed)
            read += rows
        except Exception as error:
            reason = (
                f"the changes of silver {name!r} after version {consumed} are no longer "
                f"readable ({first_line(error)})"
            )
            return None, reason, 0
    changes = Changes(
        changed=feeds,
        current=current,
        keys={name: source.table.primary_key for name, source in sources.items()},
    )
    keys = scope_function(changes)
    unknown = set(keys.columns) - set(model.column_names)
    if unknown or not keys.columns:
        raise GoldError(
            f"scope function of {model.name!r} returned columns {keys.columns}; they must "
            f"be columns of the mart ({', '.join(model.column_names)})"
        )
    return Scope.of(keys), None, read


def _full_reason(
    model: GoldModel,
    gold: TableVersion | None,
    state: GoldState | None,
    sources: dict[str, Source],
) -> str | None:
    """Why this run must recompute the whole mart, or None when it may go incremental."""
    if gold is None:
        return "no gold table with the declared columns and partitioning yet"
    if state is None:
        return "no readable record of the silver versions consumed"
    if state.gold.id != gold.id or state.gold.version > gold.version:
        return "the gold table was recreated or restored since the last run"
    for name, source in sources.items():
        consumed = state.sources.get(name)
        if consumed is None:
            return f"silver {name!r} is a new source"
        if consumed.id != source.id or consumed.version > source.version:
            return f"silver {name!r} was recreated since the last run"
    return None


def _gold_version(spark: SparkSession, path: str, model: GoldModel) -> TableVersion | None:
    """The gold table's id and version, or None when missing or not shaped as declared."""
    if not delta_io.is_delta(spark, path):
        return None
    fields = [(f.name, f.dataType.simpleString()) for f in delta_io.read_delta(spark, path).schema]
    declared = [(c.name, c.type.replace(" ", "")) for c in model.columns]
    if fields != declared or delta_io.partition_columns(spark, path) != list(model.partition_by):
        return None
    state = delta_io.table_state(spark, path)
    return TableVersion(state.table_id, state.version)


def _pin(spark: SparkSession, lakehouse: Lakehouse, table: Table) -> Source:
    path = lakehouse.table_path(Layer.SILVER, table.name)
    if not delta_io.is_delta(spark, path):
        raise GoldError(f"silver table {table.name!r} not found at {path}; run silver first")
    state = delta_io.table_state(spark, path)
    source = Source(table, path, state.table_id, state.version)
    missing = set(table.column_names) - set(source.read(spark).columns)
    if missing:
        raise GoldError(f"silver table {table.name!r} at {path} lacks columns {sorted(missing)}")
    return source


_WRITTEN = ("numTargetRowsInserted", "numTargetRowsUpdated", "numTargetRowsDeleted")
_MERGED = _WRITTEN[0]


def _describe(metrics: dict[str, int]) -> str:
    if not metrics:
        return "no gold row changed"
    if _MERGED not in metrics:
        return f"{metrics.get('numOutputRows', 0)} rows written"
    inserted, updated, deleted = (metrics.get(k, 0) for k in _WRITTEN)
    return f"{inserted} rows inserted, {updated} updated, {deleted} deleted"


def _all(conditions: list[Column]) -> Column:
    """AND of ``conditions``; TRUE when there are none (a mart whose grain is one row)."""
    return reduce(lambda a, b: a & b, conditions, F.lit(True))
