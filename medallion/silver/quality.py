"""Quality checks of silver: structural checks derived from the declaration, then its rules.

Every check is a pair of columns over a typed batch (see :func:`medallion.silver.with_typed`):
``failed`` is TRUE when the row fails, ``reason`` says why in words. Structural checks
(well-formed row, key present, values castable, known operation) always quarantine; a declared
rule warns, quarantines or fails the table as it says. A ``D`` row is checked only for its key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from medallion.spec import CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, RuleAction, Table
from medallion.spec.contract import BRONZE_LINEAGE, CORRUPT_RECORD

_LINEAGE_TYPES = dict(BRONZE_LINEAGE)
#: The struct column of a typed batch holding the raw (string) values as received.
RAW = "_raw"
OPERATIONS = ("I", "U", "D")

WELL_FORMED = "well_formed"
PK_NOT_NULL = "pk_not_null"
OP_KNOWN = "op_known"


def castable_check_name(column: str) -> str:
    return f"castable_{column}"


@dataclass(frozen=True)
class Check:
    """One quality check: its name, its action, and when/why a row fails it."""

    name: str
    action: RuleAction
    failed: Column
    reason: Column
    #: Structural checks come from the declaration itself (not from ``Table.rules``).
    structural: bool


def raw(column: str) -> Column:
    """The raw value of ``column`` as received (a string)."""
    return F.col(f"`{RAW}`.`{column}`")


def _shown(column: str) -> Column:
    """``column='value'`` or ``column=NULL``, for reasons."""
    value = F.coalesce(F.concat(F.lit("'"), raw(column), F.lit("'")), F.lit("NULL"))
    return F.concat(F.lit(f"{column}="), value)


def _referenced(table: Table, expression: str) -> list[str]:
    """Declared columns named in a rule expression, in declaration order."""
    return [
        c for c in table.column_names if re.search(rf"(?<![\w.]){re.escape(c)}(?!\w)", expression)
    ]


def checks(table: Table, *, corrupt_record: bool = False) -> list[Check]:
    """Every check of ``table`` in evaluation order; the first failing one names the row's rule.

    Order: ``well_formed`` (CSV rows only), ``pk_not_null``, ``castable_<column>`` per declared
    non-string column then for ``commit_ts``/``change_seq``, ``op_known``, then the declared rules.
    """
    op = F.col("_op")
    is_delete = F.coalesce(op == "D", F.lit(False))
    found: list[Check] = []
    quarantine = RuleAction.QUARANTINE
    if corrupt_record:
        found.append(
            Check(
                WELL_FORMED,
                quarantine,
                F.col(CORRUPT_RECORD).isNotNull(),
                F.concat(F.lit("malformed row: "), F.col(CORRUPT_RECORD)),
                True,
            )
        )
    pk_null = [raw(c).isNull() for c in table.primary_key]
    null_names = [F.when(raw(c).isNull(), F.lit(c)) for c in table.primary_key]
    found.append(
        Check(
            PK_NOT_NULL,
            quarantine,
            any_of(pk_null),
            F.concat(F.concat_ws(", ", *null_names), F.lit(" is NULL (primary key)")),
            True,
        )
    )
    for column in table.columns:
        if column.type == "string":
            continue
        uncastable = raw(column.name).isNotNull() & F.col(f"`{column.name}`").isNull()
        applies = F.lit(True) if column.name in table.primary_key else ~is_delete
        found.append(
            Check(
                castable_check_name(column.name),
                quarantine,
                applies & uncastable,
                F.concat(_shown(column.name), F.lit(f" does not cast to {column.type}")),
                True,
            )
        )
    for dms, lineage in ((COMMIT_TS_COLUMN, "_commit_ts"), (CHANGE_SEQ_COLUMN, "_change_seq")):
        type_ = _LINEAGE_TYPES[lineage]
        found.append(
            Check(
                castable_check_name(dms),
                quarantine,
                raw(dms).isNotNull() & F.col(lineage).isNull(),
                F.concat(_shown(dms), F.lit(f" does not cast to {type_}")),
                True,
            )
        )
    found.append(
        Check(
            OP_KNOWN,
            quarantine,
            ~F.coalesce(op.isin(*OPERATIONS), F.lit(False)),
            F.concat(
                F.lit("Op="),
                F.coalesce(F.concat(F.lit("'"), op, F.lit("'")), F.lit("NULL")),
                F.lit(f" is not one of {', '.join(OPERATIONS)}"),
            ),
            True,
        )
    )
    for rule in table.rules:
        shown = [_shown(c) for c in _referenced(table, rule.expression)]
        detail = [F.lit(" for "), F.concat_ws(", ", *shown)] if shown else []
        found.append(
            Check(
                rule.name,
                rule.action,
                ~is_delete & ~F.coalesce(F.expr(rule.expression).cast("boolean"), F.lit(False)),
                F.concat(F.lit(f"{rule.name}: {rule.expression} is not true"), *detail),
                False,
            )
        )
    return found


def any_of(conditions: list[Column]) -> Column:
    """TRUE when any condition is."""
    result = conditions[0]
    for condition in conditions[1:]:
        result = result | condition
    return result
