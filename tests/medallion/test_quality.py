"""Silver's pure transforms: casting, checks, change order, full recompute (no Delta I/O)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from medallion.silver import current_state, latest_per_key, with_checks, with_typed
from medallion.spec import Column, Table
from tests.medallion.silver_cases import ALL_CHANGES, ITEMS, STRICT
from tests.medallion.silver_support import bronze_frame, cdc
from tests.reference.silver import Change, cast, expected_silver, failed_checks, order

TYPES = ("int", "bigint", "decimal(4,3)", "decimal(10,2)", "boolean", "date", "timestamp")
SAMPLES = (
    "1", " 2 ", "1.5", "abc", "", "1e3", "2147483648", "+3", "-0", "0.1235", "9.9995", ".5",
    "12.355", "-0.005", "1,5", "00000000000000000000000000000001234", "true", "TRUE", "t",
    "yes", "no", "x", "2024", "2024-01", "2024-01-02", "2024-1-2", "2024-01-02 10:00:00",
    "2024-02-30", "20240102", "2024-01-02T10:00", "2024-01-02T10:00:00.123456",
    "2024-01-02 10:00:00.1234567", "2024-01-02 10:00:00+02:00", "2024-13-01 00:00:00",
    "2024-01-02 25:00:00",
)  # fmt: skip
CASTS = Table(
    name="casts",
    source="t",
    primary_key=("k",),
    columns=(
        Column("k", "bigint"),
        *[Column(f"c{i}", type_) for i, type_ in enumerate(TYPES)],
    ),
)


def test_casts_agree_with_the_reference(spark: SparkSession) -> None:
    changes = [
        cdc("I", 1, "f.csv", n, k=n, **{f"c{i}": text for i in range(len(TYPES))})
        for n, text in enumerate(SAMPLES)
    ]
    typed = bronze_frame(spark, CASTS, changes).transform(with_typed, CASTS)
    rows = {r["k"]: r for r in typed.collect()}
    mismatches = [
        (text, type_, rows[n][f"c{i}"], cast(text, type_))
        for n, text in enumerate(SAMPLES)
        for i, type_ in enumerate(TYPES)
        if rows[n][f"c{i}"] != cast(text, type_)
    ]
    assert mismatches == []
    assert rows[2]["c0"] is None  # '1.5' does not cast to int: no silent truncation
    assert rows[12]["c3"] == Decimal("12.36")  # decimals round half up


def checked(spark: SparkSession, table: Table, changes: list[Change]) -> dict[int, Any]:
    df = bronze_frame(spark, table, changes).transform(with_typed, table)
    rows = df.transform(with_checks, table).collect()
    return {r["_row"]: r for r in rows}


CASES = [
    cdc("I", 1, "f.csv", 0, item_id=1, name="ok", qty=1, price="2.00"),
    cdc("I", 2, "f.csv", 1, item_id=None, name="nokey", qty=1, price="2.00"),
    cdc("U", 3, "f.csv", 2, item_id=3, name="bad", qty="abc", price="2.00"),
    cdc("D", 4, "f.csv", 3, item_id=4, qty="zz"),
    cdc("D", 5, "f.csv", 4, item_id=None),
    cdc("D", 6, "f.csv", 5, item_id="x7"),
    cdc("X", 7, "f.csv", 6, item_id=7, name="op", qty=1, price="2.00"),
    cdc("U", 8, "f.csv", 7, item_id=8, name="noprice", qty=1, price=None),
    cdc("U", 9, "f.csv", 8, item_id=9, name="zero", qty=None, price="2.00"),
    Change(
        "f.csv", 9, {"item_id": "10", "qty": "1", "price": "1"}, "U", None, None, False, "garbage"
    ),
]


def test_checks_name_the_first_failing_rule_and_every_failing_rule(spark: SparkSession) -> None:
    rows = checked(spark, ITEMS, CASES)
    found = {n: (r["_rule"], list(r["_rules"]), r["_quarantined"]) for n, r in rows.items()}
    assert found == {
        0: (None, [], False),
        1: ("pk_not_null", ["pk_not_null"], True),
        2: ("castable_qty", ["castable_qty", "qty_positive"], True),
        3: (None, [], False),  # a delete needs only its key
        4: ("pk_not_null", ["pk_not_null"], True),
        5: ("castable_item_id", ["castable_item_id"], True),
        6: ("op_known", ["op_known"], True),
        7: (None, ["price_known"], False),  # warn: applied
        8: ("qty_positive", ["qty_positive"], True),  # NULL is not TRUE
        9: ("castable_commit_ts", ["castable_commit_ts"], True),
    }
    for change in CASES:
        assert [name for name, _ in failed_checks(ITEMS, change)] == found[change.row][1]


def test_reasons_say_what_is_wrong(spark: SparkSession) -> None:
    rows = checked(spark, ITEMS, CASES)
    assert rows[0]["_reason"] is None
    assert rows[1]["_reason"] == "item_id is NULL (primary key)"
    assert rows[2]["_reason"] == (
        "qty='abc' does not cast to int; qty_positive: qty > 0 is not true for qty='abc'"
    )
    assert rows[6]["_reason"] == "Op='X' is not one of I, U, D"
    assert rows[9]["_reason"] == "commit_ts='garbage' does not cast to timestamp"


def test_a_fail_rule_does_not_quarantine_it_fails_the_table(spark: SparkSession) -> None:
    rows = checked(spark, STRICT, [cdc("I", 1, "f.csv", 0, item_id=1, name="boom", qty=1)])
    assert (rows[0]["_rule"], list(rows[0]["_rules"])) == (None, ["name_not_blocked"])


def test_undeclared_columns_are_dropped_and_missing_ones_are_null(spark: SparkSession) -> None:
    narrow = Table(name="narrow", source="t", primary_key=("item_id",), columns=ITEMS.columns[:2])
    changes = [cdc("I", 1, "f.csv", 0, item_id=1, name="a", qty=1, price="1")]
    df = bronze_frame(spark, narrow, changes, extra=("loyalty",)).transform(with_typed, ITEMS)
    assert "loyalty" not in df.columns
    assert df.select("item_id", "qty", "price").first() == (1, None, None)


def at(seconds: int) -> datetime:
    return datetime(2024, 1, 1, 0, 0, seconds)


ORDER_CASES = [
    # key 1: a CDC change comes after the full load
    cdc("U", 1, "2024/cdc.csv", 0, item_id=1, name="cdc"),
    cdc(None, None, "LOAD00000001.csv", 0, item_id=1, name="load"),
    # key 2: same sequence: the file name, then the row, breaks the tie
    cdc("U", 5, "2024/b.csv", 0, item_id=2, name="b0"),
    cdc("U", 5, "2024/b.csv", 1, item_id=2, name="b1"),
    cdc("U", 5, "2024/a.csv", 9, item_id=2, name="a9"),
    # key 3: change_seq outranks commit_ts; a missing change_seq sorts first
    Change("2024/c.csv", 0, {"item_id": "3", "name": "seq"}, "U", at(10), Decimal(2)),
    Change("2024/c.csv", 1, {"item_id": "3", "name": "noseq"}, "U", at(59), None),
    # key 4: two full loads: the later file wins
    cdc(None, None, "LOAD00000002.csv", 0, item_id=4, name="load2"),
    cdc(None, None, "LOAD00000001.csv", 1, item_id=4, name="load1"),
    # key 5: without any sequence, a CDC row still comes after the full load
    Change("2024/d.csv", 0, {"item_id": "5", "name": "cdc"}, "U"),
    Change("LOAD00000003.csv", 0, {"item_id": "5", "name": "load"}, "I", full_load=True),
]


def test_latest_change_per_key_follows_the_change_order(spark: SparkSession) -> None:
    df = bronze_frame(spark, ITEMS, ORDER_CASES).transform(with_typed, ITEMS)
    latest = df.transform(latest_per_key, ITEMS).select("item_id", "name").collect()
    assert dict((r[0], r[1]) for r in latest) == {1: "cdc", 2: "b1", 3: "seq", 4: "load2", 5: "cdc"}
    by_key: dict[str, Change] = {}
    for change in ORDER_CASES:
        key = change.values["item_id"] or ""
        if key not in by_key or order(ITEMS, change) > order(ITEMS, by_key[key]):
            by_key[key] = change
    assert {int(k): c.values["name"] for k, c in by_key.items()} == dict(
        (r[0], r[1]) for r in latest
    )


def test_current_state_equals_the_reference(spark: SparkSession) -> None:
    df = bronze_frame(spark, ITEMS, ALL_CHANGES)
    state = df.transform(current_state, ITEMS)
    assert state.columns[: len(ITEMS.columns)] == list(ITEMS.column_names)
    rows = sorted(tuple(r) for r in state.select(*ITEMS.column_names).collect())
    assert rows == expected_silver(ITEMS, ALL_CHANGES).rows(ITEMS.column_names)
    assert state.where(F.col("_op") == "D").count() == 0
