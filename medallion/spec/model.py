"""The declaration types: tables, columns, quality rules and gold models.

Pure Python on purpose: the Pulumi program reads these to register catalog tables, so nothing
here may import pyspark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

# Spark SQL type names a column may declare (decimal takes precision and scale).
_TYPE_PATTERN = re.compile(
    r"^(string|int|bigint|smallint|double|float|boolean|date|timestamp|decimal\(\d+,\s*\d+\))$"
)
_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_REFERENCE_PATTERN = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")

#: Columns that DMS adds to every landing file (docs/contract.md#landing).
OP_COLUMN = "Op"
COMMIT_TS_COLUMN = "commit_ts"
CHANGE_SEQ_COLUMN = "change_seq"
DMS_COLUMNS = (OP_COLUMN, COMMIT_TS_COLUMN, CHANGE_SEQ_COLUMN)


class SpecError(ValueError):
    """A declaration is invalid; the message names the table and the field."""


class RuleAction(StrEnum):
    """What happens to a row that fails a rule (DLT expectations: warn / drop / fail)."""

    WARN = "warn"
    QUARANTINE = "quarantine"
    FAIL = "fail"


@dataclass(frozen=True)
class Column:
    """A source column with its declared Spark SQL type, e.g. ``decimal(10,2)``."""

    name: str
    type: str = "string"
    comment: str = ""
    #: Whether the source allows NULL here (documentation and ``infer``; silver does not
    #: enforce it: a rule does).
    nullable: bool = True

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"column name {self.name!r} must be lower snake case")
        if not _TYPE_PATTERN.match(self.type):
            raise SpecError(f"column {self.name!r}: unsupported type {self.type!r}")


@dataclass(frozen=True)
class Rule:
    """A quality rule: a Spark SQL boolean expression over the typed columns.

    A row passes only when the expression is TRUE; NULL fails, so a rule on a nullable column
    says so explicitly (``discount IS NULL OR discount >= 0``).
    """

    name: str
    expression: str
    action: RuleAction = RuleAction.QUARANTINE

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"rule name {self.name!r} must be lower snake case")
        object.__setattr__(self, "action", RuleAction(self.action))


@dataclass(frozen=True)
class Table:
    """A source table replicated into landing and carried through bronze and silver."""

    name: str
    source: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    #: Change ordering, most significant first; absent columns are skipped per file, and file
    #: name then row position always break the remaining ties
    #: (docs/contract.md#change-ordering).
    sequence_by: tuple[str, ...] = (CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN)
    partition_by: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    description: str = ""
    #: Why the declaration is not finished (written by ``infer``); ``check`` reports it.
    incomplete: str = ""

    def __post_init__(self) -> None:
        where = f"table {self.name!r}"
        if not _NAME_PATTERN.match(self.name) or not _NAME_PATTERN.match(self.source):
            raise SpecError(f"{where}: name and source must be lower snake case")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise SpecError(f"{where}: duplicate column names")
        for key in ("primary_key", "partition_by"):
            unknown = set(getattr(self, key)) - set(names)
            if unknown:
                raise SpecError(f"{where}: {key} names unknown columns {sorted(unknown)}")
        if not self.primary_key:
            raise SpecError(f"{where}: primary_key is required")
        clash = set(names) & set(DMS_COLUMNS)
        if clash:
            raise SpecError(f"{where}: columns {sorted(clash)} are reserved for DMS")
        rule_names = [r.name for r in self.rules]
        if len(set(rule_names)) != len(rule_names):
            raise SpecError(f"{where}: duplicate rule names")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise SpecError(f"table {self.name!r} has no column {name!r}")

    @property
    def quarantine_name(self) -> str:
        return f"{self.name}_quarantine"


@dataclass(frozen=True, kw_only=True)
class GoldModel:
    """A gold mart: its grain, output columns and how it is computed.

    Exactly one of ``sql`` (one Spark SQL SELECT over silver tables by name, see
    :mod:`medallion.spec.sql_model`; refreshed incrementally with a scope derived from the SQL)
    and ``transform`` (a ``"module:function"`` reference, resolved only where Spark runs, so the
    declaration stays importable without pyspark). A Python model may name its scope function
    (``scope``, ``"module:function"``, see :mod:`medallion.gold.changes`); without one it is
    recomputed in full whenever a source changes.
    """

    name: str
    sources: tuple[str, ...] = ()
    grain: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    transform: str = ""
    sql: str = ""
    scope: str = ""
    partition_by: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        where = f"gold model {self.name!r}"
        if bool(self.sql) == bool(self.transform):
            raise SpecError(f"{where}: give exactly one of 'sql' and 'transform'")
        for key in ("transform", "scope"):
            value = getattr(self, key)
            if value and not _REFERENCE_PATTERN.match(value):
                raise SpecError(f"{where}: {key} must look like 'package.module:function'")
        if self.scope and self.sql:
            raise SpecError(f"{where}: a SQL model's scope is derived from its SQL; drop 'scope'")
        names = {c.name for c in self.columns}
        for key in ("grain", "partition_by"):
            unknown = set(getattr(self, key)) - names
            if unknown:
                raise SpecError(f"{where}: {key} names unknown columns {sorted(unknown)}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Domain:
    """Every declared table and gold model; names are unique across the lakehouse."""

    tables: tuple[Table, ...]
    gold_models: tuple[GoldModel, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        tables = [t.name for t in self.tables]
        if len(set(tables)) != len(tables):
            raise SpecError("duplicate table names in the domain")
        known = set(tables)
        for model in self.gold_models:
            unknown = set(model.sources) - known
            if unknown:
                raise SpecError(f"gold model {model.name!r}: unknown sources {sorted(unknown)}")

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise SpecError(
            f"no table named {name!r}; declared: {', '.join(t.name for t in self.tables)}"
        )

    def gold_model(self, name: str) -> GoldModel:
        for model in self.gold_models:
            if model.name == name:
                return model
        raise SpecError(f"no gold model named {name!r}")
