"""The scope of a SQL gold model, derived from its query: which grain rows silver changes alter.

Method (delta queries, as in incremental view maintenance). The query is qualified and its CTEs
inlined, giving a tree of SELECT blocks whose FROM items are silver tables or derived blocks.
For a block and a list of its output columns, :func:`images` returns two sets of rows that hold
every row the block lost (``old``) and every row it gained (``new``) since the model last ran,
projected on those columns (supersets: more rows only cost time):

* a select-project-join block (inner and left joins, WHERE, DISTINCT): for each changed FROM item
  ``i``, the block with ``i`` replaced by its before-images (pre-images and deletes; the other
  items at the versions last consumed, by Delta time travel) and by its after-images
  (post-images and inserts; the others as now). Where ``i`` is the optional side of a LEFT JOIN
  the join becomes inner, plus the same rows NULL-extended (the row of the preserved side that
  had, or now has, no match). Left-joined items nothing else reads are left out (they cannot
  remove a row);
* a GROUP BY block (aggregates, HAVING, COUNT(DISTINCT)): the group keys of the changed joined
  rows; columns that are functions of the group keys are taken from those rows directly, any
  other column from the block re-evaluated at both versions for those groups only;
* a block with window functions: the window partitions of the changed rows; the block
  re-evaluated at both versions for those whole partitions (all windows of a block must share
  their PARTITION BY);
* a derived FROM item is changed when a table below it changed: its images are the rows above.

The scope is the grain columns of the top block's images. The runner recomputes the model for
those grain values only and merges the difference. Shapes outside these (RIGHT/FULL joins,
subqueries in expressions, set operations, LIMIT, windows without PARTITION BY, non-deterministic
functions), and any failure while deriving, mean a full recompute with the reason in the run's
notes; so does a scope holding more than :data:`SCOPE_SHARE_LIMIT` of the mart's rows, where
recomputing everything is cheaper than the scoped path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sqlglot import exp

from medallion import delta_io
from medallion.gold.changes import AFTER, BEFORE, CHANGE_TYPE, changed_images
from medallion.gold.scope import Scope
from medallion.gold.sql_transform import Views, views
from medallion.gold.state import GoldState
from medallion.spec import GoldModel, SpecError, Table
from medallion.spec.sql_model import parse_query, qualify_query

if TYPE_CHECKING:
    from medallion.gold.runner import Source

#: Above this share of the mart's rows in the scope, a full recompute is the cheaper path.
SCOPE_SHARE_LIMIT = 0.5
OLD, NEW = "old", "new"
_NONDETERMINISTIC = (exp.Rand, exp.Randn, exp.Uuid, exp.CurrentTimestamp, exp.CurrentDate)
_JOIN_SIDES = ("", "LEFT")
_JOIN_KINDS = ("", "INNER", "OUTER", "CROSS")


class Unsupported(Exception):
    """The query has a shape whose scope this module cannot prove; the message says which."""


@dataclass
class Item:
    """A FROM item of a block: a silver table or a derived block, with how it is joined."""

    alias: str
    table: str | None
    block: Block | None
    join: exp.Join | None
    optional: bool
    tables: frozenset[str]


@dataclass
class Block:
    """One SELECT: its FROM items, grouping, window partitioning and named outputs."""

    select: exp.Select
    items: list[Item]
    aggregate: bool
    group: list[exp.Expr]
    partition: list[exp.Expr] | None
    outputs: dict[str, exp.Expr] = field(default_factory=dict)


def analyse(model: GoldModel, tables: Sequence[Table]) -> Block:
    """The block tree of ``model``'s query; :class:`Unsupported` for shapes not handled."""
    where = f"gold model {model.name!r}"
    try:
        query = qualify_query(parse_query(model.sql, where=where), tables, where=where)
    except SpecError as error:
        raise Unsupported(str(error)) from error
    top = _block(_inline_ctes(query), {t.name for t in tables})
    missing = set(model.grain) - set(top.outputs)
    if missing:
        raise Unsupported(f"the grain columns {sorted(missing)} are not outputs of the query")
    if not model.grain:
        raise Unsupported("the model has no grain (one row): nothing smaller to recompute")
    return top


def _inline_ctes(query: exp.Select) -> exp.Select:
    query = query.copy()
    with_ = query.args.get("with_")
    if with_ is None:
        return query
    bodies: dict[str, exp.Expr] = {}
    for cte in with_.expressions:
        body = cte.this.copy()
        _replace_cte_refs(body, bodies)
        bodies[cte.alias] = body
    query.set("with_", None)
    _replace_cte_refs(query, bodies)
    return query


def _replace_cte_refs(node: exp.Expr, bodies: Mapping[str, exp.Expr]) -> None:
    for table in list(node.find_all(exp.Table)):
        if not table.db and table.name in bodies:
            alias = table.alias or table.name
            table.replace(exp.Subquery(this=bodies[table.name].copy()).as_(alias, table=True))


def _block(select: exp.Expr, known: set[str]) -> Block:
    if not isinstance(select, exp.Select):
        raise Unsupported(f"a {select.key.upper()} (only SELECT blocks are supported)")
    for key, what in (
        ("with_", "a nested WITH"),
        ("limit", "LIMIT"),
        ("offset", "OFFSET"),
        ("laterals", "LATERAL VIEW"),
        ("qualify", "QUALIFY"),
    ):
        if select.args.get(key):
            raise Unsupported(what)
    from_ = select.args.get("from_")
    if from_ is None:
        raise Unsupported("a SELECT without FROM")
    items = [_item(from_.this, None, known)]
    for join in select.args.get("joins") or []:
        side, kind = (join.side or "").upper(), (join.kind or "").upper()
        if side not in _JOIN_SIDES or kind not in _JOIN_KINDS or join.args.get("method"):
            raise Unsupported(f"a {' '.join(p for p in (side, kind) if p) or 'special'} JOIN")
        if join.args.get("using"):
            raise Unsupported("JOIN ... USING")
        items.append(_item(join.this, join, known))
    expressions = [*select.expressions]
    for key in ("where", "having", "group"):
        if select.args.get(key) is not None:
            expressions.append(select.args[key])
    expressions += [j.args["on"] for j in select.args.get("joins") or [] if j.args.get("on")]
    for expression in expressions:
        for node in expression.walk():
            if isinstance(node, exp.Query | exp.Subquery | exp.Exists):
                raise Unsupported("a subquery inside an expression")
            if isinstance(node, _NONDETERMINISTIC):
                raise Unsupported(f"the non-deterministic {node.sql('spark')}")
    group = select.args.get("group")
    if group is not None and any(group.args.get(k) for k in ("rollup", "cube", "grouping_sets")):
        raise Unsupported("ROLLUP, CUBE or GROUPING SETS")
    group_by = list(group.expressions) if group is not None else []
    windows = [w for p in select.expressions for w in p.find_all(exp.Window)]
    aggregate = bool(group_by) or any(
        _has_aggregate(p) for p in (*select.expressions, select.args.get("having")) if p
    )
    partition = None
    if windows:
        specs = {tuple(e.sql() for e in w.args.get("partition_by") or []) for w in windows}
        if len(specs) > 1:
            raise Unsupported("windows with different PARTITION BY in one SELECT")
        partition = list(windows[0].args.get("partition_by") or [])
        if not partition:
            raise Unsupported("a window without PARTITION BY (its rows depend on every row)")
        if aggregate and any(_has_aggregate(e) for e in partition):
            raise Unsupported("a window partitioned by an aggregate")
    outputs = {}
    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        outputs[projection.alias_or_name] = inner
    return Block(select, items, aggregate, group_by, partition, outputs)


def _item(node: exp.Expr, join: exp.Join | None, known: set[str]) -> Item:
    optional = join is not None and (join.side or "").upper() == "LEFT"
    if isinstance(node, exp.Table):
        if node.name not in known:
            raise Unsupported(f"an unknown table {node.name!r}")
        return Item(node.alias_or_name, node.name, None, join, optional, frozenset([node.name]))
    if isinstance(node, exp.Subquery):
        block = _block(node.this, known)
        below = frozenset(t.name for t in node.this.find_all(exp.Table))
        return Item(node.alias_or_name, None, block, join, optional, below)
    raise Unsupported(f"a FROM item of kind {node.key.upper()}")


def _has_aggregate(node: exp.Expr) -> bool:
    """True when ``node`` holds an aggregate outside any window."""
    return any(found.find_ancestor(exp.Window) is None for found in node.find_all(exp.AggFunc))


# --- evaluation -----------------------------------------------------------------------------


@dataclass
class Context:
    """The views one derivation reads: tables now and as last consumed, and their changes;
    the rows it computed once (freed when it ends)."""

    views: Views
    full: dict[str, dict[str, str]]
    delta: dict[str, dict[str, str]]
    changed: frozenset[str]
    cache: dict[tuple[int, tuple[str, ...]], tuple[DataFrame | None, DataFrame | None]] = field(
        default_factory=dict
    )
    checkpoints: list[DataFrame] = field(default_factory=list)

    def materialise(self, df: DataFrame) -> DataFrame:
        """``df`` computed now and kept until the derivation ends (:func:`derive` frees it)."""
        frame = delta_io.checkpoint(df)
        self.checkpoints.append(frame)
        return frame

    def hand_over(self, df: DataFrame) -> bool:
        """True when ``df`` is one of this derivation's computed rows, which the caller now
        keeps and frees (the derivation no longer does)."""
        for index, frame in enumerate(self.checkpoints):
            if frame is df:
                del self.checkpoints[index]
                return True
        return False


def images(block: Block, columns: Sequence[str], ctx: Context) -> tuple[DataFrame | None, ...]:
    """``(old, new)``: supersets of the rows ``block`` lost and gained, on ``columns``
    (None when none can have changed)."""
    key = (id(block), tuple(columns))
    if key in ctx.cache:
        return ctx.cache[key]
    expressions = [block.outputs[c] for c in columns]
    if block.partition is not None:
        keys = _union(_both(_spj(block, block.partition, ctx)), ctx)
        result = _restricted_both(block, block.partition, keys, columns, ctx)
    elif not block.aggregate or not any(_has_aggregate(e) for e in expressions):
        olds, news = _spj(block, expressions, ctx)
        result = (_named(_union(olds, ctx), columns), _named(_union(news, ctx), columns))
    else:
        keys = _union(_both(_spj(block, block.group, ctx)), ctx) if block.group else None
        if block.group and keys is None:
            result = (None, None)
        else:
            result = _restricted_both(block, block.group, keys, columns, ctx)
    ctx.cache[key] = result
    return result


def _restricted_both(
    block: Block,
    key_expressions: list[exp.Expr],
    keys: DataFrame | None,
    columns: Sequence[str],
    ctx: Context,
) -> tuple[DataFrame | None, DataFrame | None]:
    if keys is None and key_expressions:
        return None, None
    return tuple(  # type: ignore[return-value]
        _restricted(block, side, key_expressions, keys, columns, ctx) for side in (OLD, NEW)
    )


def _restricted(
    block: Block,
    side: str,
    key_expressions: list[exp.Expr],
    keys: DataFrame | None,
    columns: Sequence[str],
    ctx: Context,
) -> DataFrame:
    """``block`` at ``side``'s versions, only the rows whose key expressions are in ``keys``."""
    select = _bind(block.select, ctx.full[side])
    assert isinstance(select, exp.Select)
    select.set("order", None)
    extra = [e.copy().as_(f"_k{j}") for j, e in enumerate(key_expressions)]
    select.set("expressions", [*select.expressions, *extra])
    df = ctx.views.sql(select)
    if keys is not None:
        condition = reduce(
            lambda a, b: a & b,
            [df[f"_k{j}"].eqNullSafe(keys[f"_c{j}"]) for j in range(len(key_expressions))],
        )
        df = df.join(F.broadcast(keys), condition, "left_semi")
    return ctx.materialise(df.select(*columns))


def _spj(
    block: Block, expressions: Sequence[exp.Expr], ctx: Context
) -> tuple[list[DataFrame], list[DataFrame]]:
    """Before and after images of the block's joined rows (before grouping), on
    ``expressions`` (columns ``_c0``...)."""
    olds: list[DataFrame] = []
    news: list[DataFrame] = []
    for index, item in enumerate(block.items):
        if not item.tables & ctx.changed:
            continue
        for side, out in ((OLD, olds), (NEW, news)):
            seen: set[str] = set()
            for null_extended in (False, True) if item.optional else (False,):
                variant = _variant(block, index, side, null_extended, expressions, ctx)
                if variant is None:
                    continue
                text = variant.sql("spark")
                if text in seen:
                    continue
                seen.add(text)
                out.append(ctx.views.sql(variant))
    return olds, news


def _variant(
    block: Block,
    index: int,
    side: str,
    null_extended: bool,
    expressions: Sequence[exp.Expr],
    ctx: Context,
) -> exp.Select | None:
    """The block's joined rows with item ``index`` replaced by its ``side`` images."""
    changed = block.items[index]
    nulls = {changed.alias} if null_extended else set()
    projections = [_nulled(e, nulls).as_(f"_c{j}") for j, e in enumerate(expressions)]
    where = block.select.args.get("where")
    condition = _nulled(where.this, nulls) if where is not None else None
    ons: dict[int, exp.Expr | None] = {}
    for j, item in enumerate(block.items):
        on = item.join.args.get("on") if item.join is not None else None
        ons[j] = None if on is None else on.copy() if j == index else _nulled(on, nulls)
    kept = list(range(len(block.items)))
    # Left-joined items that nothing reads cannot remove or add a row: leave them out.
    while True:
        dropped = False
        for j in kept:
            item = block.items[j]
            if j == index or not item.optional:
                continue
            others = [*projections, *(x for x in [condition] if x is not None)]
            others += [ons[m] for m in kept if m != j and ons[m] is not None]  # type: ignore[misc]
            if not any(_reads(o, item.alias) for o in others):
                kept.remove(j)
                dropped = True
                break
        if not dropped:
            break
    # The NULL-extended rows equal the inner ones when nothing else reads the changed item.
    if null_extended and not any(
        _reads(o, changed.alias) for o in _all_with(block, index, expressions)
    ):
        return None
    needed_by = [*projections, *(x for x in [condition] if x is not None)]
    needed_by += [ons[m] for m in kept if ons[m] is not None]  # type: ignore[misc]
    nodes = []
    for j in kept:
        item = block.items[j]
        if j == index:
            node = _changed_node(item, side, needed_by, ctx)
            if node is None:
                return None
        else:
            node = _full_node(item, ctx.full[side])
        nodes.append((j, node))
    select = exp.Select(expressions=projections)
    select.set("from_", exp.From(this=nodes[0][1]))
    joins = []
    for j, node in nodes[1:]:
        join = block.items[j].join
        assert join is not None
        copy = exp.Join(
            this=node, on=ons[j], side=join.args.get("side"), kind=join.args.get("kind")
        )
        if j == index and block.items[j].optional:
            copy.set("side", None)
        joins.append(copy)
    if nodes[0][0] != 0:
        # The FROM item was left out: impossible, FROM is never optional.
        raise Unsupported("the FROM item was dropped")
    select.set("joins", joins)
    if condition is not None:
        select.set("where", exp.Where(this=condition))
    return select


def _all_with(block: Block, index: int, expressions: Sequence[exp.Expr]) -> list[exp.Expr]:
    """What a NULL-extended variant reads of the changed item besides its own ON."""
    found: list[exp.Expr] = [*expressions]
    where = block.select.args.get("where")
    if where is not None:
        found.append(where.this)
    for j, item in enumerate(block.items):
        if j != index and item.join is not None and item.join.args.get("on") is not None:
            found.append(item.join.args["on"])
    return found


def _changed_node(
    item: Item, side: str, readers: Sequence[exp.Expr], ctx: Context
) -> exp.Expr | None:
    if item.table is not None:
        return exp.to_table(ctx.delta[side][item.table]).as_(item.alias, table=True)
    assert item.block is not None
    wanted = sorted(
        {c.name for r in readers for c in r.find_all(exp.Column) if c.table == item.alias}
    )
    columns = wanted or list(item.block.outputs)
    old, new = images(item.block, columns, ctx)
    rows = old if side == OLD else new
    if rows is None:
        return None
    return exp.to_table(ctx.views.add(rows, f"{item.alias}_{side}")).as_(item.alias, table=True)


def _full_node(item: Item, names: Mapping[str, str]) -> exp.Expr:
    if item.table is not None:
        return exp.to_table(names[item.table]).as_(item.alias, table=True)
    assert item.block is not None
    return exp.Subquery(this=_bind(item.block.select, names)).as_(item.alias, table=True)


def _bind(node: exp.Expr, names: Mapping[str, str]) -> exp.Expr:
    """A copy of ``node`` reading every silver table from the view ``names`` gives it."""
    bound = node.copy()
    for table in list(bound.find_all(exp.Table)):
        if table.name in names and not table.db:
            table.replace(exp.to_table(names[table.name]).as_(table.alias_or_name, table=True))
    return bound


def _nulled(node: exp.Expr, aliases: set[str]) -> exp.Expr:
    """A copy of ``node`` with the columns of ``aliases`` replaced by NULL."""
    copy = node.copy()
    if not aliases:
        return copy
    if isinstance(copy, exp.Column) and copy.table in aliases:
        return exp.Null()
    for column in list(copy.find_all(exp.Column)):
        if column.table in aliases:
            column.replace(exp.Null())
    return copy


def _reads(node: exp.Expr, alias: str) -> bool:
    return any(c.table == alias for c in node.find_all(exp.Column))


def _both(images: tuple[list[DataFrame], list[DataFrame]]) -> list[DataFrame]:
    return [*images[0], *images[1]]


def _union(frames: Sequence[DataFrame], ctx: Context) -> DataFrame | None:
    """The distinct rows of ``frames``, computed once (None when there are none).

    Each level's images are materialised (a local checkpoint): the level above then plans
    over a small scan, not over the whole query below it again, so a derivation stays a few
    small Spark jobs per block however deep the query nests.
    """
    if not frames:
        return None
    return ctx.materialise(reduce(lambda a, b: a.union(b), frames).distinct())


def _named(df: DataFrame | None, columns: Sequence[str]) -> DataFrame | None:
    return None if df is None else _renamed(df, columns)


def _renamed(df: DataFrame, columns: Sequence[str]) -> DataFrame:
    """``df``'s columns ``_c0``, ``_c1``... named ``columns``."""
    return df.select(*[F.col(f"_c{j}").alias(c) for j, c in enumerate(columns)])


def grain_changes(
    top: Block, grain: Sequence[str], ctx: Context, gold: DataFrame
) -> DataFrame | None:
    """The grain values of the rows the top block lost or gained (None: none).

    A top block with windows partitioned by some of its output columns needs no re-evaluation:
    its rows in a changed partition before the changes are the gold rows of that partition
    (gold holds the block as of the versions last consumed, or later ones after a crash, which
    the changes read again cover), and the rows that join a partition are changed rows.
    """
    if top.partition is not None:
        by_output = {expression.sql(): name for name, expression in top.outputs.items()}
        partition = [by_output.get(e.sql()) for e in top.partition]
        grain_expressions = [top.outputs[c] for c in grain]
        plain = not any(
            e.find(exp.Window) or (top.aggregate and _has_aggregate(e)) for e in grain_expressions
        )
        if plain and all(partition):
            rows = _union(_both(_spj(top, [*grain_expressions, *top.partition], ctx)), ctx)
            if rows is None:
                return None
            direct = rows.select(*[F.col(f"_c{j}").alias(c) for j, c in enumerate(grain)])
            offset = len(grain)
            parts = rows.select(
                *[F.col(f"_c{offset + j}").alias(f"_p{j}") for j in range(len(partition))]
            ).distinct()
            condition = reduce(
                lambda a, b: a & b,
                [gold[c].eqNullSafe(parts[f"_p{j}"]) for j, c in enumerate(partition)],  # type: ignore[index]
            )
            held = gold.join(F.broadcast(parts), condition, "left_semi").select(*grain)
            return direct.union(held).distinct()
    expressions = [top.outputs[c] for c in grain]
    if top.partition is None and not (top.aggregate and any(map(_has_aggregate, expressions))):
        # As images() would, but the rows lost and gained in one computed union.
        return _union([_renamed(f, grain) for f in _both(_spj(top, expressions, ctx))], ctx)
    old, new = images(top, grain, ctx)
    return _union([d for d in (old, new) if d is not None], ctx)


# --- the runner's hook ------------------------------------------------------------------------


def derive(
    spark: SparkSession,
    model: GoldModel,
    sources: Mapping[str, Source],
    state: GoldState,
    gold_path: str,
    changes_of: Callable[[Source, int], tuple[DataFrame, int]],
) -> tuple[Scope | None, str | None, int]:
    """The scope of the changes since ``state`` (or the reason to recompute in full), and how
    many change rows were read. ``changes_of(source, version)`` gives a source's change feed
    after ``version`` and its row count (the run's, shared by its marts)."""
    try:
        top = analyse(model, [s.table for s in sources.values()])
    except Unsupported as error:
        return None, f"the scope of this query cannot be derived: {error}", 0
    changed = frozenset(n for n, s in sources.items() if state.sources[n].version != s.version)
    read = 0
    checkpoints: list[DataFrame] = []
    try:
        with views(spark) as registered:
            ctx = Context(
                registered, {OLD: {}, NEW: {}}, {OLD: {}, NEW: {}}, changed, checkpoints=checkpoints
            )
            columns = referenced_columns(top)
            for name, source in sources.items():
                now = registered.add(source.read(spark), f"{name}_now")
                ctx.full[NEW][name] = ctx.full[OLD][name] = now
                if name not in changed:
                    continue
                consumed = state.sources[name].version
                try:
                    before = delta_io.read_delta(spark, source.path, consumed)
                    ctx.full[OLD][name] = registered.add(
                        before.select(*source.table.column_names), f"{name}_before"
                    )
                    feed, rows = changes_of(source, consumed)
                    read += rows
                except Exception as error:
                    return (
                        None,
                        (
                            f"silver {name!r} at version {consumed} or its changes since are no "
                            f"longer readable ({_summary(error)})"
                        ),
                        0,
                    )
                moved = ctx.materialise(
                    changed_images(
                        feed,
                        source.table.primary_key,
                        columns.get(name) or source.table.column_names,
                    )
                )
                for side, types in ((OLD, BEFORE), (NEW, AFTER)):
                    side_images = moved.filter(F.col(CHANGE_TYPE).isin(*types))
                    ctx.delta[side][name] = registered.add(
                        side_images.select(*source.table.column_names), f"{name}_{side}_images"
                    )
            try:
                gold = delta_io.read_delta(spark, gold_path).select(*model.column_names)
                keys = grain_changes(top, list(model.grain), ctx, gold)
                if keys is None:
                    keys = spark.range(0).select(
                        *[F.lit(None).cast(_type(model, c)).alias(c) for c in model.grain]
                    )
                # Keys the derivation computed are distinct already: the scope keeps them.
                scope = Scope.of(keys, computed=ctx.hand_over(keys))
            except Unsupported as error:
                return None, f"the scope of this query cannot be derived: {error}", read
            except Exception as error:
                return None, f"deriving the scope failed ({_summary(error)})", read
    finally:
        delta_io.release(*checkpoints)
    chosen, reason = choose(spark, scope, gold_path)
    return chosen, reason, read


def choose(spark: SparkSession, scope: Scope, gold_path: str) -> tuple[Scope | None, str | None]:
    """The scope, or the reason a full recompute is cheaper (its share of the mart's rows)."""
    rows = delta_io.read_delta(spark, gold_path).count()
    share = scope.size / rows if rows else 1.0
    if scope.size and share > SCOPE_SHARE_LIMIT:
        scope.release()
        return None, (
            f"the changes touch {scope.size} of the mart's {rows} rows ({share:.0%}, above the "
            f"{SCOPE_SHARE_LIMIT:.0%} beyond which recomputing everything is cheaper)"
        )
    note = f"{share:.1%} of the mart's {rows} rows; full recompute above {SCOPE_SHARE_LIMIT:.0%}"
    return Scope(scope.keys, scope.size, scope.sample, note), None


def referenced_columns(top: Block) -> dict[str, list[str]]:
    """Silver table -> the columns of it the query reads (an update to others changes nothing)."""
    found: dict[str, set[str]] = {}

    def visit(block: Block) -> None:
        aliases = {i.alias: i.table for i in block.items if i.table is not None}
        for column in block.select.find_all(exp.Column):
            table = aliases.get(column.table)
            if table is not None and _owner(column) is block.select:
                found.setdefault(table, set()).add(column.name)
        for item in block.items:
            if item.block is not None:
                visit(item.block)

    visit(top)
    return {t: sorted(c) for t, c in found.items()}


def _owner(column: exp.Column) -> exp.Expr | None:
    return column.find_ancestor(exp.Select)


def _type(model: GoldModel, column: str) -> str:
    return next(c.type for c in model.columns if c.name == column)


def _summary(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
