"""SQL gold models: one Spark SQL ``SELECT`` per ``.sql`` file, metadata in its leading comment.

A model file (``domain/models/<name>.sql``; the model's name is the file stem)::

    /*
    description: Orders per day and region.
    grain: [order_date, region]
    partition_by: [order_month]
    columns:
      order_date: {comment: Day of the order (UTC).}
      revenue: {type: "decimal(18,2)", comment: Revenue after discounts.}
    */
    SELECT ... FROM orders o JOIN order_lines l ON ...

Pure Python (sqlglot, no Spark): :func:`load_sql_model` parses the query in the Spark dialect,
resolves every column against the silver tables' declarations (an unknown table or column is an
error naming the file and line), derives the model's ``sources``, and infers each output
column's type with Spark's rules (:func:`infer_type`). A column whose type cannot be inferred
needs a ``type`` in the metadata; a declared type that differs from the inferred one is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from sqlglot import exp, parse_one
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from medallion.spec.model import Column, GoldModel, SpecError, Table

DIALECT = "spark"
#: Keys the metadata block may hold.
METADATA_KEYS = ("description", "grain", "partition_by", "columns")
COLUMN_KEYS = ("type", "comment")
#: A type the rules below cannot tell (the model must declare the column's ``type``).
UNKNOWN = "unknown"
_NULL = "void"
_METADATA = re.compile(r"\A\s*/\*(.*?)\*/", re.DOTALL)
_DECIMAL = re.compile(r"^decimal\((\d+),(\d+)\)$")
_INTEGRAL = {"tinyint": 3, "smallint": 5, "int": 10, "bigint": 20}
_FRACTIONAL = ("double", "float")
MAX_PRECISION = 38
#: Spark keeps at least this many decimals when an operation's precision exceeds 38.
MIN_ADJUSTED_SCALE = 6


def load_sql_model(path: Path, tables: Sequence[Table]) -> GoldModel:
    """The gold model in ``path`` (see the module docstring); :class:`SpecError` when invalid.

    Every message starts with ``<path>:`` (and the line when known) and names the model.
    """
    name = path.stem
    text = path.read_text(encoding="utf-8")
    return parse_sql_model(name, text, tables, where=str(path))


def parse_sql_model(
    name: str, text: str, tables: Sequence[Table], *, where: str = "<sql>"
) -> GoldModel:
    """The gold model ``name`` from the text of its file (``where`` names the file in errors)."""
    model = f"gold model {name!r}"
    match = _METADATA.match(text)
    if match is None:
        raise SpecError(f"{where}: {model}: the file must start with a /* ... */ metadata block")
    try:
        metadata = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        raise SpecError(f"{where}: {model}: the metadata block is not YAML: {error}") from error
    if not isinstance(metadata, dict):
        raise SpecError(f"{where}: {model}: the metadata block must be a YAML mapping")
    unknown = sorted(set(metadata) - set(METADATA_KEYS))
    if unknown:
        raise SpecError(
            f"{where}: {model}: unknown metadata keys {unknown}; allowed: {list(METADATA_KEYS)}"
        )
    # Blank out the metadata but keep its newlines, so that parser lines are file lines.
    body = re.sub(r"[^\n]", " ", match.group(0)) + text[match.end() :]
    sql = text[match.end() :].strip().rstrip(";").strip()
    if not sql:
        raise SpecError(f"{where}: {model}: no SELECT after the metadata block")
    query = parse_query(body.rstrip().rstrip(";"), where=f"{where}: {model}")
    qualified = qualify_query(query, tables, where=f"{where}: {model}")
    sources = source_tables(qualified, tables, where=f"{where}: {model}")
    declared = _column_metadata(metadata.get("columns") or {}, where=f"{where}: {model}")
    columns = []
    inferred = output_types(qualified, tables)
    for column, type_ in inferred.items():
        type_ = UNKNOWN if type_ == _NULL else type_
        meta = declared.pop(column, {})
        wanted = meta.get("type")
        if wanted is not None:
            wanted = normalize(str(wanted))
            if type_ != UNKNOWN and wanted != type_:
                raise SpecError(
                    f"{where}: {model}: column {column!r} is declared {wanted} but the query "
                    f"gives {type_}"
                )
            type_ = wanted
        if type_ == UNKNOWN:
            raise SpecError(
                f"{where}: {model}: the type of column {column!r} cannot be inferred; "
                f"declare it in the metadata (columns: {{{column}: {{type: ...}}}})"
            )
        try:
            columns.append(Column(column, type_, str(meta.get("comment") or "")))
        except SpecError as error:
            raise SpecError(f"{where}: {model}: {error}") from error
    if declared:
        raise SpecError(
            f"{where}: {model}: metadata describes columns the query does not return: "
            f"{sorted(declared)}"
        )
    try:
        return GoldModel(
            name=name,
            sql=sql,
            sources=sources,
            grain=tuple(_names(metadata.get("grain"), "grain", where, model)),
            partition_by=tuple(_names(metadata.get("partition_by"), "partition_by", where, model)),
            columns=tuple(columns),
            description=str(metadata.get("description") or ""),
        )
    except SpecError as error:
        raise SpecError(f"{where}: {error}") from error


def parse_query(sql: str, *, where: str) -> exp.Select:
    """One Spark SQL SELECT (with optional CTEs), or a :class:`SpecError` naming the line."""
    try:
        query = parse_one(sql, read=DIALECT)
    except ParseError as error:
        detail = error.errors[0] if error.errors else {}
        line = detail.get("line")
        at = f" line {line}:" if line else ""
        raise SpecError(f"{where}:{at} not a valid Spark SQL query: {error}") from error
    if not isinstance(query, exp.Select):
        raise SpecError(f"{where}: the model must be one SELECT, not {query.key.upper()}")
    return query


def schema_of(tables: Sequence[Table]) -> dict[str, object]:
    """The sqlglot schema of the declared tables: table -> column -> Spark type."""
    return {t.name: {c.name: c.type for c in t.columns} for t in tables}


def qualify_query(query: exp.Select, tables: Sequence[Table], *, where: str) -> exp.Select:
    """``query`` with every column qualified by its table alias and every output named.

    An unknown table or column is a :class:`SpecError` naming the line.
    """
    known = {t.name for t in tables}
    ctes = {cte.alias for cte in query.find_all(exp.CTE)}
    for table in query.find_all(exp.Table):
        if table.name not in known and table.name not in ctes:
            raise SpecError(
                f"{where}:{_line(table)} unknown table {table.name!r}; declared: "
                f"{', '.join(sorted(known))}"
            )
    try:
        qualified = qualify(
            query.copy(),
            schema=schema_of(tables),
            dialect=DIALECT,
            quote_identifiers=False,
            validate_qualify_columns=True,
        )
    except OptimizeError as error:
        raise SpecError(f"{where}:{_error_line(query, str(error))} {error}") from error
    assert isinstance(qualified, exp.Select)
    return qualified


def source_tables(query: exp.Expr, tables: Sequence[Table], *, where: str) -> tuple[str, ...]:
    """The silver tables ``query`` reads, in order of first mention."""
    known = {t.name for t in tables}
    names: list[str] = []
    for table in query.find_all(exp.Table):
        if table.name in known and table.name not in names:
            names.append(table.name)
    if not names:
        raise SpecError(f"{where}: the query reads no declared table")
    return tuple(names)


def output_types(query: exp.Select, tables: Sequence[Table]) -> dict[str, str]:
    """Output column -> Spark type of a qualified query (:data:`UNKNOWN` where not inferable)."""
    annotate_types(query, schema=schema_of(tables), dialect=DIALECT)
    root = build_scope(query)
    assert root is not None
    types: dict[str, str] = {}
    for projection in query.selects:
        types[projection.alias_or_name] = infer_type(projection, root, _schema(tables))
    return types


def _schema(tables: Sequence[Table]) -> dict[str, dict[str, str]]:
    return {t.name: {c.name: c.type for c in t.columns} for t in tables}


# --- Spark's typing rules -----------------------------------------------------------------


def normalize(type_: str) -> str:
    """A type spelled as the declarations spell it (``decimal(18,2)``, ``int``, ``string``)."""
    spelled = exp.DataType.build(type_, dialect=DIALECT).sql(DIALECT).lower().replace(" ", "")
    return {"integer": "int", "long": "bigint", "short": "smallint", "byte": "tinyint"}.get(
        spelled, spelled
    )


def decimal(type_: str) -> tuple[int, int] | None:
    """``(precision, scale)`` of a decimal type, of an integral type as Spark widens it."""
    match = _DECIMAL.match(type_)
    if match:
        return int(match.group(1)), int(match.group(2))
    if type_ in _INTEGRAL:
        return _INTEGRAL[type_], 0
    return None


def bounded(precision: int, scale: int) -> str:
    return f"decimal({min(precision, MAX_PRECISION)},{min(scale, MAX_PRECISION)})"


def adjusted(precision: int, scale: int) -> str:
    """Spark's result type of a decimal operation (``allowPrecisionLoss``, the default)."""
    if precision <= MAX_PRECISION:
        return f"decimal({precision},{scale})"
    digits = precision - scale
    scale = max(MAX_PRECISION - digits, min(scale, MIN_ADJUSTED_SCALE))
    return f"decimal({MAX_PRECISION},{scale})"


def wider(a: str, b: str) -> str:
    """The common type of two branches (``coalesce``, ``CASE``), as Spark widens them."""
    if a in (_NULL, b):
        return b
    if b == _NULL:
        return a
    if UNKNOWN in (a, b):
        return UNKNOWN
    if a in _FRACTIONAL or b in _FRACTIONAL:
        return (
            "double"
            if (decimal(a) or a in _FRACTIONAL) and (decimal(b) or b in _FRACTIONAL)
            else UNKNOWN
        )
    if a in _INTEGRAL and b in _INTEGRAL:
        return a if _INTEGRAL[a] >= _INTEGRAL[b] else b
    da, db = decimal(a), decimal(b)
    if da and db:
        scale = max(da[1], db[1])
        digits = max(da[0] - da[1], db[0] - db[1])
        return bounded(digits + scale, scale)
    if {a, b} == {"date", "timestamp"}:
        return "timestamp"
    return UNKNOWN


def _literal_type(node: exp.Literal) -> str:
    if node.is_string:
        return "string"
    text = node.this
    if re.fullmatch(r"\d+", text):
        return "int" if int(text) < 2**31 else ("bigint" if int(text) < 2**63 else UNKNOWN)
    if re.fullmatch(r"\d*\.\d+|\d+\.\d*", text):
        whole, _, fraction = text.partition(".")
        digits = len(whole.lstrip("0")) + len(fraction)
        return f"decimal({max(digits, len(fraction), 1)},{len(fraction)})"
    return "double"


def _operand(node: exp.Expr, type_: str) -> tuple[int, int] | None:
    """An operand of decimal arithmetic: an integer literal counts only its digits."""
    if isinstance(node, exp.Literal) and type_ in _INTEGRAL:
        return max(len(node.this.lstrip("0")), 1), 0
    return decimal(type_)


def _arithmetic(node: exp.Binary, left: str, right: str) -> str:
    if UNKNOWN in (left, right):
        return UNKNOWN
    if _NULL in (left, right):
        return left if right == _NULL else right
    if left in _FRACTIONAL or right in _FRACTIONAL:
        return "double"
    if left in _INTEGRAL and right in _INTEGRAL:
        return "double" if isinstance(node, exp.Div) else wider(left, right)
    a, b = _operand(node.left, left), _operand(node.right, right)
    if a is None or b is None:
        return UNKNOWN
    (p1, s1), (p2, s2) = a, b
    if isinstance(node, exp.Add | exp.Sub):
        scale = max(s1, s2)
        return adjusted(max(p1 - s1, p2 - s2) + scale + 1, scale)
    if isinstance(node, exp.Mul):
        return adjusted(p1 + p2 + 1, s1 + s2)
    if isinstance(node, exp.Div):
        scale = max(MIN_ADJUSTED_SCALE, s1 + p2 + 1)
        return adjusted(p1 - s1 + s2 + scale, scale)
    return UNKNOWN


_INT_RESULTS = (
    exp.Year,
    exp.Month,
    exp.Day,
    exp.DayOfMonth,
    exp.DayOfWeek,
    exp.DayOfYear,
    exp.Quarter,
    exp.WeekOfYear,
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.Ntile,
    exp.Length,
)
_SAME_AS_ARGUMENT = (exp.Min, exp.Max, exp.First, exp.Last, exp.AnyValue, exp.Lag, exp.Lead)
_BOOLEAN = (exp.Predicate, exp.Connector, exp.Not, exp.Boolean)
_STRING = (exp.Concat, exp.Upper, exp.Lower, exp.Trim, exp.Substring, exp.Initcap)


def infer_type(node: exp.Expr, scope: Scope, schema: Mapping[str, Mapping[str, str]]) -> str:
    """The Spark type of ``node`` in ``scope`` (a qualified query), or :data:`UNKNOWN`."""

    def of(child: exp.Expr | None) -> str:
        return UNKNOWN if child is None else infer_type(child, scope, schema)

    if isinstance(node, exp.Alias | exp.Paren):
        return of(node.this)
    if isinstance(node, exp.Column):
        return _column_type(node, scope, schema)
    if isinstance(node, exp.Cast):  # TryCast too: Spark's CAST
        return normalize(node.to.sql(DIALECT))
    if isinstance(node, exp.Null):
        return _NULL
    if isinstance(node, exp.Literal):
        return _literal_type(node)
    if isinstance(node, _BOOLEAN):
        return "boolean"
    if isinstance(node, exp.Neg):
        return of(node.this)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div):
        return _arithmetic(node, of(node.left), of(node.right))
    if isinstance(node, exp.Coalesce):
        result = of(node.this)
        for other in node.expressions:
            result = wider(result, of(other))
        return result
    if isinstance(node, exp.If):
        return wider(
            of(node.args.get("true")),
            of(node.args.get("false")) if node.args.get("false") else _NULL,
        )
    if isinstance(node, exp.Case):
        result = of(node.args.get("default")) if node.args.get("default") else _NULL
        for branch in node.args.get("ifs") or []:
            result = wider(result, of(branch.args.get("true")))
        return result
    if isinstance(node, exp.Window):
        return of(node.this)
    if isinstance(node, exp.Count):
        return "bigint"
    if isinstance(node, exp.Sum):
        argument = of(node.this)
        if argument in _INTEGRAL:
            return "bigint"
        number = decimal(argument)
        if number:
            return bounded(number[0] + 10, number[1])
        return "double" if argument in _FRACTIONAL else UNKNOWN
    if isinstance(node, exp.Avg):
        argument = of(node.this)
        match = _DECIMAL.match(argument)
        if match:
            return bounded(int(match.group(1)) + 4, int(match.group(2)) + 4)
        return "double" if argument in _INTEGRAL or argument in _FRACTIONAL else UNKNOWN
    if isinstance(node, exp.Round):
        argument = of(node.this)
        places = node.args.get("decimals")
        digits = 0 if places is None else _int_literal(places)
        match = _DECIMAL.match(argument)
        if match and digits is not None and digits >= 0:
            precision, scale = int(match.group(1)), int(match.group(2))
            new_scale = min(scale, digits)
            return bounded(precision - scale + 1 + new_scale, new_scale)
        if argument in _INTEGRAL or argument in _FRACTIONAL:
            return argument
        return UNKNOWN
    if isinstance(node, _SAME_AS_ARGUMENT):
        return of(node.this)
    if isinstance(node, _INT_RESULTS):
        return "int"
    if isinstance(node, exp.TsOrDsToDate | exp.DateTrunc | exp.CurrentDate | exp.StrToDate):
        return "date"
    if isinstance(node, exp.TimestampTrunc | exp.CurrentTimestamp):
        return "timestamp"
    if isinstance(node, _STRING):
        return "string"
    if isinstance(node, exp.PercentRank | exp.CumeDist):
        return "double"
    annotated = node.type
    if annotated is None or annotated.is_type(exp.DataType.Type.UNKNOWN):
        return UNKNOWN
    if annotated.this in exp.DataType.TEMPORAL_TYPES or annotated.this in (
        exp.DataType.Type.TEXT,
        exp.DataType.Type.VARCHAR,
        exp.DataType.Type.BOOLEAN,
    ):
        return normalize(annotated.sql(DIALECT))
    # Numeric results of functions not listed above: sqlglot's rules are not Spark's.
    return UNKNOWN


def _int_literal(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        return None
    return None


def _column_type(column: exp.Column, scope: Scope, schema: Mapping[str, Mapping[str, str]]) -> str:
    source = scope.sources.get(column.table)
    if isinstance(source, exp.Table):
        return schema.get(source.name, {}).get(column.name, UNKNOWN)
    if isinstance(source, Scope):
        inner = source.expression
        if isinstance(inner, exp.Select):
            for projection in inner.selects:
                if projection.alias_or_name == column.name:
                    return infer_type(projection, source, schema)
    return UNKNOWN


# --- metadata -----------------------------------------------------------------------------


def _column_metadata(raw: Any, *, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: 'columns' must map column names to {{type, comment}}")
    columns: dict[str, dict[str, Any]] = {}
    for name, meta in raw.items():
        meta = {"comment": meta} if isinstance(meta, str) else (meta or {})
        if not isinstance(meta, dict):
            raise SpecError(f"{where}: columns.{name} must be a mapping with type and comment")
        unknown = sorted(set(meta) - set(COLUMN_KEYS))
        if unknown:
            raise SpecError(f"{where}: columns.{name}: unknown keys {unknown}")
        columns[str(name)] = meta
    return columns


def _names(raw: Any, key: str, where: str, model: str) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise SpecError(f"{where}: {model}: '{key}' must be a list of column names")
    return list(raw)


def _line(node: exp.Expr) -> str:
    """`` line N:`` of a parsed node, or empty when unknown."""
    for candidate in (node, node.this if isinstance(node.this, exp.Expr) else None):
        if candidate is not None and candidate.meta.get("line"):
            return f" line {candidate.meta['line']}:"
    return ""


def _error_line(query: exp.Expr, message: str) -> str:
    """The line of the column an optimizer error names (its first mention)."""
    named = re.findall(r"[Cc]olumn:?\s*['\"]?([A-Za-z_][A-Za-z0-9_.]*)", message)
    for name in named:
        bare = name.split(".")[-1]
        for column in query.find_all(exp.Column):
            if column.name == bare:
                return _line(column)
    return ""
