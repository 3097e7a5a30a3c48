"""Source column types -> the declared Spark SQL type that DMS's parquet output casts to cleanly.

Bronze keeps every value as text and silver casts it to the declared type (``try_cast``), so a
declared type is right when the text of every value DMS writes casts back to the same value.
The full table, with what is lossy or unsupported, is in ``docs/infer.md``.

A type with no faithful Spark type is declared ``string`` with a note, never skipped: DMS sends
the column anyway, bronze keeps it, and a declaration without it would silently drop it from
silver. The note ends up in the column's comment and in the report, so a person decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect

#: Spark's decimal precision limit.
MAX_PRECISION = 38
#: What DMS makes of a PostgreSQL NUMERIC without precision (unless MapUnboundedNumericAsString).
UNBOUNDED_NUMERIC = "decimal(28,6)"


@dataclass(frozen=True)
class Mapped:
    """A declared type, and why it is lossy or a stand-in ('' when the mapping is exact)."""

    type: str
    note: str = ""


def _as_text(source: str, why: str) -> Mapped:
    return Mapped("string", f"source type {source} {why}; declared string (DMS writes its text)")


def describe(type_: sqltypes.TypeEngine[Any], dialect: Dialect) -> str:
    """The source type as the engine spells it, e.g. ``NUMERIC(12, 2)``."""
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # a reflected type with no DDL form (NullType for an unknown type)
        return type(type_).__name__


def from_sqlalchemy(type_: sqltypes.TypeEngine[Any], source: str) -> Mapped:
    """Map a type reflected by SQLAlchemy's inspector; ``source`` is how the engine spells it."""
    kind = type(type_).__name__.upper()
    if isinstance(type_, sqltypes.Boolean):
        return Mapped("boolean")
    if isinstance(type_, sqltypes.Integer):
        return _integer(kind, type_)
    if isinstance(type_, sqltypes.Double):
        return Mapped("double")
    if isinstance(type_, sqltypes.Float):
        # FLOAT(p) with p > 24 is a double in both engines.
        precision = getattr(type_, "precision", None)
        return Mapped("double" if kind in ("DOUBLE", "DOUBLE_PRECISION") else _float(precision))
    if isinstance(type_, sqltypes.Numeric):
        return _decimal(type_.precision, type_.scale, source)
    if isinstance(type_, sqltypes.DateTime):
        zone = getattr(type_, "timezone", False)
        return Mapped("timestamp", "with time zone: DMS writes the instant in UTC" if zone else "")
    if isinstance(type_, sqltypes.Date):
        return Mapped("date")
    if kind == "YEAR":
        return Mapped("int")
    if isinstance(type_, sqltypes.Time):
        return _as_text(source, "(time of day) has no Spark type")
    if isinstance(type_, sqltypes.Enum):
        return Mapped("string", f"source type {source}: the enum's labels as text")
    if isinstance(type_, sqltypes.String) and kind == "SET":
        return Mapped("string", f"source type {source}: the set's members as comma-joined text")
    if isinstance(type_, sqltypes.String):
        return Mapped("string")
    if isinstance(type_, sqltypes.Uuid):
        return Mapped("string")
    if isinstance(type_, sqltypes.JSON):
        return _as_text(source, "(JSON) is not typed further")
    if isinstance(type_, sqltypes.ARRAY):
        return _as_text(source, "(array) has no declared Spark type here")
    if isinstance(type_, sqltypes._Binary):
        return _as_text(
            source, "(binary) has no declared Spark type; bytes that are not UTF-8 are lossy"
        )
    return _as_text(source, "is not supported")


# Signed and unsigned integers by width: Spark reads parquet UINT_8/16/32/64 as
# short/int/long/decimal(20,0), one size up, so every unsigned value fits.
_SIGNED = {"TINYINT": "smallint", "SMALLINT": "smallint", "MEDIUMINT": "int", "BIGINT": "bigint"}
_UNSIGNED = {
    "TINYINT": "smallint",
    "SMALLINT": "int",
    "MEDIUMINT": "int",
    "BIGINT": "decimal(20,0)",
}


def _integer(kind: str, type_: sqltypes.TypeEngine[Any]) -> Mapped:
    if kind == "TINYINT" and getattr(type_, "display_width", None) == 1:
        return Mapped("boolean", "TINYINT(1) is MySQL's BOOLEAN: 0/1 cast to false/true")
    if kind not in _SIGNED and isinstance(type_, sqltypes.SmallInteger):
        kind = "SMALLINT"
    elif kind not in _SIGNED and isinstance(type_, sqltypes.BigInteger):
        kind = "BIGINT"
    if getattr(type_, "unsigned", False):
        declared = _UNSIGNED.get(kind, "bigint")
        note = (
            "unsigned BIGINT: declared decimal(20,0), as Spark reads UINT64"
            if (kind == "BIGINT")
            else ""
        )
        return Mapped(declared, note)
    return Mapped(_SIGNED.get(kind, "int"))


def _float(precision: int | None) -> str:
    return "double" if precision is not None and precision > 24 else "float"


def _decimal(precision: int | None, scale: int | None, source: str) -> Mapped:
    if precision is None:
        return Mapped(
            UNBOUNDED_NUMERIC,
            f"source type {source} has no precision: DMS writes "
            f"{UNBOUNDED_NUMERIC}; larger values or more digits are lost",
        )
    if precision > MAX_PRECISION:
        return _as_text(source, f"is wider than Spark's decimal({MAX_PRECISION})")
    return Mapped(f"decimal({precision},{scale or 0})")


def from_arrow(type_: pa.DataType) -> Mapped:
    """Map the type of a column in a landed parquet file."""
    if pa.types.is_boolean(type_):
        return Mapped("boolean")
    if pa.types.is_integer(type_):
        return _arrow_integer(type_)
    if pa.types.is_float16(type_) or pa.types.is_float32(type_):
        return Mapped("float")
    if pa.types.is_float64(type_):
        return Mapped("double")
    if pa.types.is_decimal(type_):
        return _decimal(type_.precision, type_.scale, str(type_))
    if pa.types.is_timestamp(type_):
        return Mapped("timestamp")
    if pa.types.is_date(type_):
        return Mapped("date")
    if (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_dictionary(type_)
    ):
        return Mapped("string")
    if pa.types.is_time(type_):
        return _as_text(str(type_), "(time of day) has no Spark type")
    return _as_text(str(type_), "is not supported")


def _arrow_integer(type_: pa.DataType) -> Mapped:
    width = type_.bit_width
    if pa.types.is_signed_integer(type_):
        return Mapped({8: "smallint", 16: "smallint", 32: "int"}.get(width, "bigint"))
    if width == 64:
        return Mapped("decimal(20,0)", "unsigned 64-bit: declared decimal(20,0), as Spark reads it")
    return Mapped({8: "smallint", 16: "int"}.get(width, "bigint"))


# Widening: every value of the left type casts to the right one without loss.
_WIDER = {
    "smallint": ("int", "bigint", "float", "double"),
    "int": ("bigint", "double"),
    "float": ("double",),
    "date": ("timestamp",),
}


def widens(old: str, new: str) -> bool:
    """True when every value of declared type ``old`` is kept by type ``new``."""
    old, new = old.replace(" ", ""), new.replace(" ", "")
    if old == new or new == "string":
        return True
    if old.startswith("decimal(") and new.startswith("decimal("):
        p1, s1 = _precision_scale(old)
        p2, s2 = _precision_scale(new)
        return s2 >= s1 and p2 - s2 >= p1 - s1
    if old in ("smallint", "int", "bigint") and new.startswith("decimal("):
        digits = {"smallint": 5, "int": 10, "bigint": 19}[old]
        precision, scale = _precision_scale(new)
        return precision - scale >= digits
    return new in _WIDER.get(old, ())


def _precision_scale(decimal: str) -> tuple[int, int]:
    precision, scale = decimal.removeprefix("decimal(").removesuffix(")").split(",")
    return int(precision), int(scale)
