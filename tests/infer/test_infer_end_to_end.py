"""A domain the repository never saw, from a live PostgreSQL to silver.

Five tables (one with a composite key) are created in a real PostgreSQL server and inferred with
``medallion infer``; DMS-shaped landing files (a full load, then CDC with ``Op``/``commit_ts``/
``change_seq``) are written from rows read back out of the database; bronze and silver run on
them; silver must equal the final state read straight from the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text

from medallion.cli import main
from medallion.layout import Lakehouse
from medallion.pipeline import run
from medallion.read import read_table
from medallion.spec import Domain
from tests.infer.domain_yaml import load
from tests.infer.support import execute, rows

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [pytest.mark.database, pytest.mark.spark]

SCHEMA = [
    "CREATE SCHEMA library",
    """CREATE TABLE library.branches (
        branch_id integer PRIMARY KEY, name varchar(80) NOT NULL, city text, opened_on date)""",
    """CREATE TABLE library.members (
        member_id bigint PRIMARY KEY, full_name text NOT NULL, email text,
        joined_at timestamp NOT NULL, active boolean NOT NULL DEFAULT true)""",
    """CREATE TABLE library.books (
        isbn char(13) PRIMARY KEY, title text NOT NULL, price numeric(8,2), published_on date)""",
    """CREATE TABLE library.copies (
        branch_id integer NOT NULL, copy_no smallint NOT NULL, isbn char(13) NOT NULL,
        acquired_at timestamptz, damaged boolean, PRIMARY KEY (branch_id, copy_no))""",
    """CREATE TABLE library.loans (
        loan_id bigint PRIMARY KEY, branch_id integer NOT NULL, copy_no smallint NOT NULL,
        member_id bigint NOT NULL, loaned_at timestamp NOT NULL, due_on date NOT NULL,
        returned_at timestamp, fee numeric(6,2))""",
    "COMMENT ON TABLE library.copies IS 'A physical copy of a book in a branch.'",
    "COMMENT ON COLUMN library.copies.copy_no IS 'Copy number within the branch.'",
    "COMMENT ON COLUMN library.loans.fee IS 'Late fee charged on return.'",
]

FULL_LOAD = [
    """INSERT INTO library.branches VALUES
        (1, 'Central', 'Lyon', '1990-05-01'), (2, 'East', NULL, '2001-09-15'),
        (3, 'Harbour', 'Marseille', NULL)""",
    """INSERT INTO library.members VALUES
        (10, 'Ada Byron', 'ada@example.org', '2020-01-02 10:00:00', true),
        (11, 'Alan Turing', NULL, '2021-06-23 08:30:15.25', true),
        (12, 'Grace Hopper', 'grace@example.org', '2019-12-09 17:45:00', false)""",
    """INSERT INTO library.books VALUES
        ('9780000000001', 'Notes on the Analytical Engine', 12.50, '1843-09-01'),
        ('9780000000002', 'On Computable Numbers', NULL, '1936-11-12'),
        ('9780000000003', 'COBOL for Everyone', 30.00, NULL)""",
    """INSERT INTO library.copies VALUES
        (1, 1, '9780000000001', '2020-03-01 09:00:00+00', false),
        (1, 2, '9780000000001', '2020-03-01 09:00:00+02', NULL),
        (2, 1, '9780000000002', NULL, false),
        (2, 2, '9780000000003', '2022-07-14 12:00:00+00', true)""",
    """INSERT INTO library.loans VALUES
        (100, 1, 1, 10, '2024-01-05 11:00:00', '2024-01-19', '2024-01-18 16:20:00', NULL),
        (101, 2, 1, 11, '2024-01-06 15:30:00', '2024-01-20', NULL, NULL)""",
]

#: The changes DMS would capture, in commit order (the RETURNING row is the change's image).
CHANGES = [
    (
        "I",
        "INSERT INTO library.members VALUES (13, 'Edsger Dijkstra', 'ewd@example.org', "
        "'2024-02-01 09:00:00', true) RETURNING *",
    ),
    ("U", "UPDATE library.members SET email = NULL WHERE member_id = 10 RETURNING *"),
    (
        "U",
        "UPDATE library.members SET full_name = 'Alan M. Turing' WHERE member_id = 11 RETURNING *",
    ),
    (
        "U",
        "UPDATE library.members SET full_name = 'Alan Mathison Turing', active = false "
        "WHERE member_id = 11 RETURNING *",
    ),
    (
        "U",
        "UPDATE library.copies SET damaged = true WHERE branch_id = 1 AND copy_no = 2 RETURNING *",
    ),
    ("D", "DELETE FROM library.copies WHERE branch_id = 2 AND copy_no = 1 RETURNING *"),
    ("D", "DELETE FROM library.copies WHERE branch_id = 2 AND copy_no = 2 RETURNING *"),
    (
        "I",
        "INSERT INTO library.copies VALUES (2, 2, '9780000000002', "
        "'2024-02-03 08:00:00+00', false) RETURNING *",
    ),
    ("U", "UPDATE library.books SET price = 14.99 WHERE isbn = '9780000000001' RETURNING *"),
    (
        "I",
        "INSERT INTO library.books VALUES ('9780000000004', 'Structured Programming', 22.10, "
        "'1972-01-01') RETURNING *",
    ),
    (
        "U",
        "UPDATE library.loans SET returned_at = '2024-01-25 10:00:00', fee = 1.50 "
        "WHERE loan_id = 101 RETURNING *",
    ),
    (
        "I",
        "INSERT INTO library.loans VALUES (102, 1, 2, 13, '2024-02-05 14:00:00', "
        "'2024-02-19', NULL, NULL) RETURNING *",
    ),
    ("D", "DELETE FROM library.branches WHERE branch_id = 3 RETURNING *"),
    ("U", "UPDATE library.branches SET city = 'Villeurbanne' WHERE branch_id = 2 RETURNING *"),
]

TABLES = ("branches", "members", "books", "copies", "loans")
LOADED_AT = datetime(2024, 2, 1, 0, 0, 0)


def arrow_type(declared: str) -> pa.DataType:
    """The parquet type DMS writes for a column of this declared type."""
    if match := re.fullmatch(r"decimal\((\d+),(\d+)\)", declared):
        return pa.decimal128(int(match[1]), int(match[2]))
    return {
        "smallint": pa.int16(),
        "int": pa.int32(),
        "bigint": pa.int64(),
        "string": pa.string(),
        "boolean": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "double": pa.float64(),
        "float": pa.float32(),
    }[declared]


def write_landing(
    lakehouse: Lakehouse, domain: Domain, name: str, key: str, records: list[dict[str, Any]]
) -> None:
    """One DMS-shaped parquet file: DMS columns first, then the declared columns."""
    table = domain.table(name)
    fields = [
        pa.field("Op", pa.string()),
        pa.field("commit_ts", pa.timestamp("us")),
        pa.field("change_seq", pa.string()),
        *(pa.field(c.name, arrow_type(c.type)) for c in table.columns),
    ]
    path = Path(lakehouse.landing_dir(table)) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema(fields)
    if key.startswith("LOAD"):  # DMS full-load files have no Op column
        schema = schema.remove(0)
    pq.write_table(pa.Table.from_pylist(records, schema=schema), path)


def capture_changes(url: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Run each change in its own transaction: (op, table, row image)."""
    engine = create_engine(url)
    try:
        for op, statement in CHANGES:
            table = re.search(r"library\.(\w+)", statement)
            assert table is not None
            with engine.begin() as connection:
                image = connection.execute(text(statement)).mappings().one()
            yield op, table[1], dict(image)
    finally:
        engine.dispose()


def plain(value: Any) -> Any:
    """Timestamps as naive UTC, as Spark hands them back in a UTC session."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def test_live_postgres_domain_through_bronze_and_silver(
    postgres_url: str, spark: SparkSession, tmp_path: Path
) -> None:
    execute(postgres_url, *SCHEMA, *FULL_LOAD)
    out = tmp_path / "domain"
    assert main(["infer", "--from", postgres_url, "--source", "library", "--out", str(out)]) == 0
    domain = load(out)
    assert sorted(t.name for t in domain.tables) == sorted(TABLES)
    assert domain.table("copies").primary_key == ("branch_id", "copy_no")
    assert domain.table("loans").column("fee").type == "decimal(6,2)"

    lakehouse = Lakehouse.at(str(tmp_path / "lake"))
    for name in TABLES:
        loaded = rows(postgres_url, f"SELECT * FROM library.{name}")
        records = [{"commit_ts": LOADED_AT, "change_seq": None, **r} for r in loaded]
        write_landing(lakehouse, domain, name, "LOAD00000001.parquet", records)

    changes: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
    for seq, (op, name, image) in enumerate(capture_changes(postgres_url), start=1):
        stamp = LOADED_AT + timedelta(days=1, seconds=seq)
        changes[name].append({"Op": op, "commit_ts": stamp, "change_seq": f"{seq:035d}", **image})
    for name, records in changes.items():
        if records:
            write_landing(lakehouse, domain, name, "2024/02/02/20240202-000000000.parquet", records)

    report = run(spark, lakehouse, domain, ["bronze", "silver"])
    assert report.ok, [r.messages for r in report.failures()]
    for name in TABLES:
        table = domain.table(name)
        silver = read_table(spark, f"silver.{name}", lakehouse).select(*table.column_names)
        got = {tuple(row) for row in silver.collect()}
        columns = ", ".join(table.column_names)
        expected = {
            tuple(plain(r[c]) for c in table.column_names)
            for r in rows(postgres_url, f"SELECT {columns} FROM library.{name}")
        }
        assert got == expected, name
        assert len(got) == len(expected) > 0
