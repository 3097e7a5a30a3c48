"""Spark types from the type names the contract and the declarations use.

``medallion.spec`` spells types as Spark SQL names (``decimal(10,2)``, ``array<string>``), which
are also the Glue spellings; this module turns them into ``pyspark.sql.types`` without a
session (Spark's own parser needs a running JVM).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyspark.sql import types as T

_SIMPLE: dict[str, T.DataType] = {
    "string": T.StringType(),
    "int": T.IntegerType(),
    "integer": T.IntegerType(),
    "bigint": T.LongType(),
    "smallint": T.ShortType(),
    "tinyint": T.ByteType(),
    "double": T.DoubleType(),
    "float": T.FloatType(),
    "boolean": T.BooleanType(),
    "date": T.DateType(),
    "timestamp": T.TimestampType(),
}
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")
_ARRAY = re.compile(r"^array<(.+)>$")


def spark_type(name: str) -> T.DataType:
    """The Spark type of a type name such as ``decimal(10,2)`` or ``array<string>``."""
    spelled = name.strip().lower()
    if spelled in _SIMPLE:
        return _SIMPLE[spelled]
    if match := _DECIMAL.match(spelled):
        return T.DecimalType(int(match.group(1)), int(match.group(2)))
    if match := _ARRAY.match(spelled):
        return T.ArrayType(spark_type(match.group(1)))
    raise ValueError(f"unsupported column type {name!r}")


def struct(columns: Iterable[tuple[str, str]]) -> T.StructType:
    """A schema of nullable fields from (name, type name) pairs."""
    return T.StructType([T.StructField(name, spark_type(type_)) for name, type_ in columns])
