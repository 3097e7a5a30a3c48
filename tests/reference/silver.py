"""An independent silver in plain Python (dicts, Decimal, datetime): no Spark, no medallion code.

It takes changes as bronze holds them (raw strings plus the parsed DMS values) and computes what
silver must hold: per key, the latest accepted change by the order of
docs/contract.md#change-ordering (gone when that change is a delete), and which rows are
quarantined under which rule. Casting mirrors Spark's ``try_cast`` for the text forms the
pipeline meets; rules are re-implemented per rule name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from medallion.spec import RuleAction, Table

OPERATIONS = ("I", "U", "D")
# Java's \s, which Spark's RLIKE uses.
_SPACE = " \t\n\x0b\f\r"
_EMAIL = re.compile(rf"^[^@{_SPACE}]+@[^@{_SPACE}]+\.[^@{_SPACE}]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
_DECIMAL_TYPE = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[ T].*)?$")
_TIMESTAMP = re.compile(
    r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_TRUE = {"t", "true", "y", "yes", "1"}
_FALSE = {"f", "false", "n", "no", "0"}


def cast(value: str | None, type_: str) -> Any:
    """``try_cast(value AS type_)``: the typed value, or None when it does not cast."""
    if value is None or type_ == "string":
        return value
    text = value.strip(_SPACE)
    if type_ in _INT_RANGES:
        if not _INTEGER.match(text):
            return None
        low, high = _INT_RANGES[type_]
        number = int(text)
        return number if low <= number <= high else None
    decimal = _DECIMAL_TYPE.match(type_)
    if decimal:
        return cast_decimal(text, int(decimal.group(1)), int(decimal.group(2)))
    if type_ == "boolean":
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else None
    if type_ == "date":
        return cast_date(text)
    if type_ == "timestamp":
        return cast_timestamp(text)
    if type_ in ("double", "float"):
        try:
            return float(text)
        except ValueError:
            return None
    raise ValueError(f"the reference does not cast to {type_}")


def cast_decimal(text: str, precision: int, scale: int) -> Decimal | None:
    """Round half up to ``scale``; None when it does not parse or needs more digits."""
    if not _DECIMAL_TEXT.match(text):
        return None
    with localcontext() as context:
        context.prec = 100  # the default 28 digits would refuse decimal(38,0)
        try:
            number = Decimal(text).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return None
    integral_digits = len(str(abs(int(number)))) if abs(number) >= 1 else 0
    return number if integral_digits <= precision - scale else None


def cast_date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    year, month, day = (int(part) if part else 1 for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def cast_timestamp(text: str) -> datetime | None:
    """A timestamp in UTC (naive), as Spark reads ``yyyy[-MM[-dd[ HH:mm[:ss[.f]]]]][zone]``."""
    match = _TIMESTAMP.match(text)
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        value = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
            int(second or 0), micros,
        )  # fmt: skip
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        value -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return value


def _all(*values: bool | None) -> bool | None:
    """SQL AND: FALSE wins over NULL."""
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _compare(value: Any, test: Callable[[Any], bool]) -> bool | None:
    return None if value is None else test(value)


#: Every rule the tests meet, by name: a row's typed values -> TRUE / FALSE / NULL.
RULES: dict[str, Callable[[Mapping[str, Any]], bool | None]] = {
    "email_is_address": lambda r: _compare(r["email"], lambda v: bool(_EMAIL.match(v))),
    "unit_price_positive": lambda r: _compare(r["unit_price"], lambda v: v > 0),
    "status_known": lambda r: _compare(
        r["status"], lambda v: v in ("completed", "cancelled", "pending")
    ),
    "total_amount_not_negative": lambda r: _compare(r["total_amount"], lambda v: v >= 0),
    "quantity_positive": lambda r: _compare(r["quantity"], lambda v: v > 0),
    "unit_price_not_negative": lambda r: _compare(r["unit_price"], lambda v: v >= 0),
    "discount_in_range": lambda r: _all(
        _compare(r["discount"], lambda v: v >= 0), _compare(r["discount"], lambda v: v < 1)
    ),
    "age_in_range": lambda r: _compare(r["age"], lambda v: 14 <= v <= 100),
    "salary_not_negative": lambda r: _compare(r["salary"], lambda v: v >= 0),
    # Rules of the small tables the silver tests declare.
    "qty_positive": lambda r: _compare(r["qty"], lambda v: v > 0),
    "price_known": lambda r: r["price"] is not None,
    "name_not_blocked": lambda r: r["name"] is None or r["name"] != "boom",
}


@dataclass(frozen=True)
class Change:
    """One bronze row: raw declared values as strings, and the parsed DMS values."""

    file_key: str
    row: int
    values: Mapping[str, str | None]
    op: str | None
    commit_ts: datetime | None = None
    change_seq: Decimal | None = None
    full_load: bool = False
    raw_commit_ts: str | None = None
    raw_change_seq: str | None = None

    @property
    def identity(self) -> tuple[str, int]:
        return self.file_key, self.row


@dataclass
class Expected:
    """What silver must hold for one table."""

    #: primary key tuple -> declared column -> typed value (live keys only)
    state: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    #: (file key, row) -> (first quarantining check, every failing check)
    quarantine: dict[tuple[str, int], tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    #: (file key, row) of the change each live key reflects
    source: dict[tuple[Any, ...], tuple[str, int]] = field(default_factory=dict)

    def rows(self, columns: Iterable[str]) -> list[tuple[Any, ...]]:
        """Live rows as tuples of ``columns``, sorted."""
        names = list(columns)
        return sorted(tuple(values[c] for c in names) for values in self.state.values())


def typed_values(table: Table, change: Change) -> dict[str, Any]:
    return {c.name: cast(change.values.get(c.name), c.type) for c in table.columns}


def failed_checks(table: Table, change: Change) -> list[tuple[str, RuleAction]]:
    """Every check the change fails, in silver's order, with its action."""
    quarantine = RuleAction.QUARANTINE
    typed = typed_values(table, change)
    is_delete = change.op == "D"
    failed: list[tuple[str, RuleAction]] = []
    if any(change.values.get(k) is None for k in table.primary_key):
        failed.append(("pk_not_null", quarantine))
    for column in table.columns:
        if column.type == "string" or (is_delete and column.name not in table.primary_key):
            continue
        if change.values.get(column.name) is not None and typed[column.name] is None:
            failed.append((f"castable_{column.name}", quarantine))
    if change.raw_commit_ts is not None and change.commit_ts is None:
        failed.append(("castable_commit_ts", quarantine))
    if change.raw_change_seq is not None and change.change_seq is None:
        failed.append(("castable_change_seq", quarantine))
    if change.op not in OPERATIONS:
        failed.append(("op_known", quarantine))
    if not is_delete:
        for rule in table.rules:
            if rule.name not in RULES:
                raise KeyError(f"the reference has no implementation of rule {rule.name!r}")
            if RULES[rule.name](typed) is not True:
                failed.append((rule.name, rule.action))
    return failed


def order(table: Table, change: Change) -> tuple[Any, ...]:
    """The change order (docs/contract.md#change-ordering) as a sortable tuple (NULL first,
    full load first)."""
    parts: list[tuple[int, Any]] = []
    for column in table.sequence_by:
        if column == "change_seq":
            value: Any = change.change_seq
        elif column == "commit_ts":
            value = change.commit_ts
        else:
            value = typed_values(table, change)[column]
        parts.append((0, 0) if value is None else (1, value))
    return (*parts, not change.full_load, change.file_key, change.row)


def expected_silver(table: Table, changes: Iterable[Change]) -> Expected:
    """Silver after applying every change, however they were split into batches."""
    expected = Expected()
    latest: dict[tuple[Any, ...], Change] = {}
    for change in changes:
        failed = failed_checks(table, change)
        quarantining = [name for name, action in failed if action is RuleAction.QUARANTINE]
        if quarantining:
            names = tuple(name for name, _ in failed)
            expected.quarantine[change.identity] = (quarantining[0], names)
            continue
        typed = typed_values(table, change)
        key = tuple(typed[k] for k in table.primary_key)
        if key not in latest or order(table, change) > order(table, latest[key]):
            latest[key] = change
    for key, change in latest.items():
        if change.op != "D":
            expected.state[key] = typed_values(table, change)
            expected.source[key] = change.identity
    return expected


def rule_failures(table: Table, changes: Iterable[Change], action: RuleAction) -> dict[str, int]:
    """Rows failing each ``action`` rule among rows that pass every structural check."""
    counts: dict[str, int] = {}
    declared = {r.name for r in table.rules}
    for change in changes:
        failed = failed_checks(table, change)
        if any(name not in declared for name, _ in failed) and action is RuleAction.FAIL:
            continue
        quarantined = any(a is RuleAction.QUARANTINE for _, a in failed)
        if action is RuleAction.WARN and quarantined:
            continue
        for name, found in failed:
            if found is action:
                counts[name] = counts.get(name, 0) + 1
    return counts
