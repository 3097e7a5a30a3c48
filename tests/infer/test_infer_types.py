"""The type mapping of docs/infer.md, type by type (no server needed)."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import mysql, postgresql

from medallion.infer.types import describe, from_arrow, from_sqlalchemy, widens
from medallion.spec import Column


@pytest.mark.parametrize(
    ("type_", "declared", "noted"),
    [
        (postgresql.BOOLEAN(), "boolean", False),
        (mysql.TINYINT(display_width=1), "boolean", True),
        (mysql.TINYINT(), "smallint", False),
        (mysql.TINYINT(unsigned=True), "smallint", False),
        (postgresql.SMALLINT(), "smallint", False),
        (mysql.SMALLINT(unsigned=True), "int", False),
        (mysql.MEDIUMINT(), "int", False),
        (mysql.MEDIUMINT(unsigned=True), "int", False),
        (postgresql.INTEGER(), "int", False),
        (mysql.INTEGER(unsigned=True), "bigint", False),
        (postgresql.BIGINT(), "bigint", False),
        (mysql.BIGINT(unsigned=True), "decimal(20,0)", True),
        (postgresql.NUMERIC(12, 2), "decimal(12,2)", False),
        (mysql.DECIMAL(10, 0), "decimal(10,0)", False),
        (postgresql.NUMERIC(), "decimal(28,6)", True),
        (postgresql.NUMERIC(40, 2), "string", True),
        (postgresql.REAL(), "float", False),
        (postgresql.DOUBLE_PRECISION(), "double", False),
        (mysql.FLOAT(), "float", False),
        (mysql.DOUBLE(), "double", False),
        (postgresql.DATE(), "date", False),
        (postgresql.TIMESTAMP(), "timestamp", False),
        (postgresql.TIMESTAMP(timezone=True), "timestamp", True),
        (mysql.DATETIME(fsp=6), "timestamp", False),
        (mysql.YEAR(), "int", False),
        (postgresql.TIME(), "string", True),
        (mysql.TIME(), "string", True),
        (postgresql.VARCHAR(20), "string", False),
        (mysql.TEXT(), "string", False),
        (postgresql.UUID(), "string", False),
        (postgresql.ENUM("a", "b", name="ab"), "string", True),
        (mysql.SET("a", "b"), "string", True),
        (postgresql.JSONB(), "string", True),
        (mysql.JSON(), "string", True),
        (postgresql.ARRAY(sqltypes.Integer()), "string", True),
        (postgresql.BYTEA(), "string", True),
        (mysql.BIT(), "string", True),
        (postgresql.INTERVAL(), "string", True),
        (postgresql.MONEY(), "string", True),
        (sqltypes.NullType(), "string", True),
    ],
)
def test_sqlalchemy_types(type_: sqltypes.TypeEngine[object], declared: str, noted: bool) -> None:
    dialect = (
        mysql if type(type_).__module__.startswith("sqlalchemy.dialects.mysql") else postgresql
    )
    mapped = from_sqlalchemy(type_, describe(type_, dialect.dialect()))
    assert (mapped.type, bool(mapped.note)) == (declared, noted)
    Column("c", mapped.type)  # every declared type is one a declaration accepts


@pytest.mark.parametrize(
    ("type_", "declared"),
    [
        (pa.bool_(), "boolean"),
        (pa.int8(), "smallint"),
        (pa.int16(), "smallint"),
        (pa.int32(), "int"),
        (pa.int64(), "bigint"),
        (pa.uint8(), "smallint"),
        (pa.uint16(), "int"),
        (pa.uint32(), "bigint"),
        (pa.uint64(), "decimal(20,0)"),
        (pa.float32(), "float"),
        (pa.float64(), "double"),
        (pa.decimal128(9, 4), "decimal(9,4)"),
        (pa.date32(), "date"),
        (pa.timestamp("ms"), "timestamp"),
        (pa.timestamp("us", tz="UTC"), "timestamp"),
        (pa.string(), "string"),
        (pa.large_string(), "string"),
        (pa.time64("us"), "string"),
        (pa.binary(), "string"),
    ],
)
def test_parquet_types(type_: pa.DataType, declared: str) -> None:
    assert from_arrow(type_).type == declared


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("int", "bigint", True),
        ("bigint", "int", False),
        ("smallint", "int", True),
        ("date", "timestamp", True),
        ("timestamp", "date", False),
        ("decimal(10,2)", "decimal(12,2)", True),
        ("decimal(10,2)", "decimal(12,4)", True),
        ("decimal(10,2)", "decimal(11,3)", True),
        ("decimal(10,2)", "decimal(10,3)", False),
        ("decimal(4,3)", "decimal(10,0)", False),
        ("int", "decimal(10,0)", True),
        ("bigint", "decimal(18,0)", False),
        ("boolean", "string", True),
        ("string", "int", False),
        ("decimal(4, 3)", "decimal(4,3)", True),
    ],
)
def test_widening(old: str, new: str, expected: bool) -> None:
    assert widens(old, new) is expected


def test_cli_starts_without_the_infer_extra_and_infer_needs_no_spark() -> None:
    import subprocess
    import sys

    code = (
        "import sys, medallion.cli; "
        "assert 'sqlalchemy' not in sys.modules, 'medallion.cli imported the infer extra'; "
        "import medallion.infer.database, medallion.infer.landing, medallion.infer.write; "
        "assert 'pyspark' not in sys.modules, 'medallion.infer imported pyspark'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
