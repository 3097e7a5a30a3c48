"""Silver: CDC anomalies applied like APPLY CHANGES, quarantine, rule actions, exactly once.

One scenario (a full load, a CDC batch full of anomalies, a late batch, a replay and a rerun)
is run once for the module; each test checks one behaviour of its outcome. The expected values
are written out by hand and also compared with the plain-Python reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from medallion.catalog import glue_type
from medallion.layout import Lakehouse
from medallion.results import Status, TableResult
from medallion.silver import run_silver
from medallion.silver.runner import SilverPaths
from medallion.spec import Column, Domain, Table
from medallion.spec.contract import BRONZE_LINEAGE, SILVER_METADATA, quarantine_columns
from tests.medallion.silver_cases import (
    ALL_CHANGES,
    CDC,
    DAY2,
    DOMAIN,
    FULL_LOAD,
    ITEMS,
    LATE_CHANGES,
    LOAD,
    STRICT,
    item,
)
from tests.medallion.silver_support import (
    append_bronze,
    cdc,
    quarantined,
    read,
    silver_rows,
    silver_sources,
    version,
)
from tests.reference.silver import Change, expected_silver


@dataclass
class Run:
    results: list[TableResult]
    rows: list[tuple[Any, ...]]
    versions: dict[str, int]


@dataclass
class Scenario:
    lakehouse: Lakehouse
    runs: dict[str, Run]


def _versions(spark: SparkSession, lakehouse: Lakehouse) -> dict[str, int]:
    """Latest version of each table silver writes (-1 while it does not exist)."""
    paths = SilverPaths.of(lakehouse, ITEMS)
    return {
        name: version(spark, path) if DeltaTable.isDeltaTable(spark, path) else -1
        for name, path in vars(paths).items()
        if name != "bronze"
    }


@pytest.fixture(scope="module")
def scenario(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    lakehouse = Lakehouse.at(str(tmp_path_factory.mktemp("silver") / "lake"))
    runs: dict[str, Run] = {}

    def run(name: str, changes: list[Change] | None) -> None:
        if changes is not None:
            append_bronze(spark, lakehouse, ITEMS, changes)
        results = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=0.5)
        rows = silver_rows(spark, lakehouse, ITEMS)
        runs[name] = Run(results, rows, _versions(spark, lakehouse))

    run("load", FULL_LOAD)
    run("cdc", CDC)
    run("late", LATE_CHANGES)
    run("replay", CDC)  # bronze rows with the same identity again
    run("rerun", None)
    return Scenario(lakehouse, runs)


def state(rows: list[tuple[Any, ...]]) -> dict[int, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in rows}


def test_full_load_is_applied(scenario: Scenario) -> None:
    loaded = state(scenario.runs["load"].rows)
    assert sorted(loaded) == list(range(1, 9))
    assert loaded[4] == ("n4", 4, Decimal("1.50"))
    [result] = scenario.runs["load"].results
    assert (result.status, result.rows_in, result.rows_out) == (Status.OK, 8, 8)


def test_key_changed_twice_in_a_batch_keeps_the_latest_change(scenario: Scenario) -> None:
    assert state(scenario.runs["cdc"].rows)[1][0] == "b"


def test_late_older_change_never_overwrites(scenario: Scenario) -> None:
    assert state(scenario.runs["late"].rows)[1][0] == "b"


def test_stale_change_after_delete_does_not_resurrect(scenario: Scenario) -> None:
    assert 2 not in state(scenario.runs["cdc"].rows)
    assert 2 not in state(scenario.runs["late"].rows)


def test_delete_then_reinsert_brings_the_key_back(scenario: Scenario) -> None:
    after_cdc, after_late = state(scenario.runs["cdc"].rows), state(scenario.runs["late"].rows)
    assert after_cdc[3][0] == "again"  # deleted and re-inserted in one batch
    assert 7 not in after_cdc  # a delete whose other values do not cast
    assert after_late[7][0] == "back"  # re-inserted by a newer change in a later batch


def test_bad_rows_are_quarantined_and_keys_keep_their_previous_state(
    spark: SparkSession, scenario: Scenario
) -> None:
    found = quarantined(spark, scenario.lakehouse, ITEMS)
    assert found == {
        (DAY2, 5): ("castable_qty", ("castable_qty", "qty_positive")),
        (DAY2, 6): ("pk_not_null", ("pk_not_null",)),
        (DAY2, 7): ("qty_positive", ("qty_positive",)),
        (DAY2, 10): ("op_known", ("op_known",)),
    }
    after = state(scenario.runs["cdc"].rows)
    assert after[4] == ("n4", 4, Decimal("1.50"))
    assert after[5] == ("n5", 5, Decimal("1.50"))
    assert 9 not in after
    [result] = scenario.runs["cdc"].results
    assert result.quarantined == 4


def test_quarantine_keeps_raw_values_reason_and_lineage(
    spark: SparkSession, scenario: Scenario
) -> None:
    row = read(spark, scenario.lakehouse, ITEMS.quarantine_name).where("_row = 5").first()
    assert row is not None
    assert (row["item_id"], row["qty"], row["_op"], row["_file_key"]) == ("4", "abc", "U", DAY2)
    assert row["_reason"].startswith("qty='abc' does not cast to int")
    assert row["_quarantined_at"] is not None and row["_source_file"].endswith(DAY2)


def test_warn_rule_applies_the_row_and_reports_it(scenario: Scenario) -> None:
    assert state(scenario.runs["cdc"].rows)[6] == ("noprice", 1, None)
    [result] = scenario.runs["cdc"].results
    assert result.status is Status.WARNED
    assert "rule price_known (warn) failed for 1 applied row(s)" in result.messages


def test_duplicate_deliveries_and_a_replayed_batch_apply_once(
    spark: SparkSession, scenario: Scenario
) -> None:
    assert state(scenario.runs["cdc"].rows)[10] == ("dup", 1, Decimal("1.50"))
    assert scenario.runs["replay"].rows == scenario.runs["late"].rows
    [result] = scenario.runs["replay"].results
    assert (result.rows_in, result.rows_out) == (len(CDC), 0)
    assert len(quarantined(spark, scenario.lakehouse, ITEMS)) == 4


def test_each_run_reads_only_new_bronze_rows(scenario: Scenario) -> None:
    counts = {name: run.results[0].rows_in for name, run in scenario.runs.items()}
    assert counts == {
        "load": len(FULL_LOAD),
        "cdc": len(CDC),
        "late": len(LATE_CHANGES),
        "replay": len(CDC),
        "rerun": 0,
    }


def test_rerun_with_nothing_new_writes_no_version(scenario: Scenario) -> None:
    assert scenario.runs["rerun"].versions == scenario.runs["replay"].versions
    assert scenario.runs["rerun"].rows == scenario.runs["replay"].rows
    [result] = scenario.runs["rerun"].results
    assert (result.status, result.rows_in, result.rows_out) == (Status.OK, 0, 0)


def test_silver_equals_the_reference(spark: SparkSession, scenario: Scenario) -> None:
    expected = expected_silver(ITEMS, ALL_CHANGES)
    assert scenario.runs["rerun"].rows == expected.rows(ITEMS.column_names)
    assert silver_sources(spark, scenario.lakehouse, ITEMS) == expected.source
    assert quarantined(spark, scenario.lakehouse, ITEMS) == expected.quarantine


def test_silver_holds_only_live_rows_and_feeds_changes(
    spark: SparkSession, scenario: Scenario
) -> None:
    path = scenario.lakehouse.table_path("silver", ITEMS.name)
    properties = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"]
    assert properties["delta.enableChangeDataFeed"] == "true"
    df = read(spark, scenario.lakehouse, ITEMS.name)
    assert df.columns[:4] == list(ITEMS.column_names)
    assert all(c.startswith("_") for c in df.columns[4:])
    assert df.where("_op = 'D'").count() == 0
    assert df.count() == df.select("item_id").distinct().count() == 8


def columns_of(df: DataFrame) -> list[tuple[str, str]]:
    """(name, type name) of every column, spelled as the contract and the catalog spell them."""
    return [(f.name, glue_type(f.dataType)) for f in df.schema.fields]


def test_tables_have_the_contract_s_columns(spark: SparkSession, scenario: Scenario) -> None:
    """What the stack declares in the catalog (medallion.spec.contract) is what silver writes."""
    lake = scenario.lakehouse
    assert columns_of(read(spark, lake, ITEMS.quarantine_name)) == list(quarantine_columns(ITEMS))
    lineage = dict(BRONZE_LINEAGE)
    declared = [(c.name, c.type) for c in ITEMS.columns]
    assert columns_of(read(spark, lake, ITEMS.name)) == [
        *declared,
        *((name, lineage[name]) for name in SILVER_METADATA),
    ]


# --- rule actions, bad-row ratio, crashes, schema drift --------------------------------------


def test_fail_rule_fails_the_table_applies_nothing_and_others_run(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    good = [cdc(None, None, LOAD, i, **item(i + 1)) for i in range(3)]
    append_bronze(spark, lakehouse, STRICT, [*good, cdc(None, None, LOAD, 3, **item(4, "boom"))])
    append_bronze(spark, lakehouse, ITEMS, good)
    strict, items = run_silver(spark, lakehouse, Domain(tables=(STRICT, ITEMS)))
    assert strict.status is Status.FAILED
    assert strict.messages == ["rule name_not_blocked (fail) failed for 1 row(s); nothing applied"]
    assert not DeltaTable.isDeltaTable(spark, lakehouse.table_path("silver", STRICT.name))
    assert items.status is Status.OK and len(silver_rows(spark, lakehouse, ITEMS)) == 3


def test_a_clean_batch_creates_the_quarantine_empty_and_a_later_bad_row_lands_in_it(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    append_bronze(
        spark, lakehouse, ITEMS, [cdc(None, None, LOAD, i, **item(i + 1)) for i in range(3)]
    )
    [clean] = run_silver(spark, lakehouse, DOMAIN)
    assert clean.status is Status.OK and clean.quarantined == 0
    empty = read(spark, lakehouse, ITEMS.quarantine_name)
    assert empty.count() == 0
    assert {"_rule", "_rules", "_file_key", "_row", *ITEMS.column_names} <= set(empty.columns)
    assert columns_of(empty) == list(quarantine_columns(ITEMS))
    append_bronze(spark, lakehouse, ITEMS, [cdc("I", 1, DAY2, 0, **item(None))])
    [bad] = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=1.0)
    assert bad.quarantined == 1
    assert [rule for rule, _ in quarantined(spark, lakehouse, ITEMS).values()] == ["pk_not_null"]


def test_too_many_bad_rows_fail_the_table(spark: SparkSession, lakehouse: Lakehouse) -> None:
    changes = [cdc(None, None, LOAD, i, **item(i + 1)) for i in range(8)]
    changes += [cdc(None, None, LOAD, 8, **item(9, qty="x")), cdc("I", 1, DAY2, 0, **item(None))]
    append_bronze(spark, lakehouse, ITEMS, changes)
    [result] = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=0.1)
    assert result.failed
    assert result.messages[-1] == (
        "2 of 10 incoming row(s) fail quality checks (20.0% > max_bad_ratio "
        "10.0%: pk_not_null=1, castable_qty=1); nothing applied"
    )
    assert not DeltaTable.isDeltaTable(spark, lakehouse.table_path("silver", ITEMS.name))
    assert not DeltaTable.isDeltaTable(spark, lakehouse.table_path("silver", "items_quarantine"))
    [result] = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=0.2)
    assert result.status is Status.WARNED and result.quarantined == 2
    assert len(silver_rows(spark, lakehouse, ITEMS)) == 8


@pytest.mark.parametrize("step", ["write_tombstones", "merge_silver"])
def test_crash_between_writes_then_rerun_equals_a_clean_run(
    spark: SparkSession, lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """Crash after the quarantine (before the tombstones) or before silver's MERGE."""
    from medallion.silver import runner

    append_bronze(spark, lakehouse, ITEMS, CDC)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"crash before {step}")

    monkeypatch.setattr(runner, step, crash)
    [crashed] = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=0.5)
    assert crashed.failed and f"crash before {step}" in crashed.messages[0]
    assert quarantined(spark, lakehouse, ITEMS)  # the first write happened
    monkeypatch.undo()
    append_bronze(spark, lakehouse, ITEMS, LATE_CHANGES)  # new rows arrive before the rerun
    [rerun] = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=0.5)
    assert not rerun.failed and rerun.rows_in == len(CDC) + len(LATE_CHANGES)

    expected = expected_silver(ITEMS, [*CDC, *LATE_CHANGES])
    assert silver_rows(spark, lakehouse, ITEMS) == expected.rows(ITEMS.column_names)
    assert quarantined(spark, lakehouse, ITEMS) == expected.quarantine  # none twice


def test_new_upstream_column_is_ignored_and_reported(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    table = Table(
        name="regional",
        source="shop",
        primary_key=("item_id",),
        columns=(*ITEMS.columns, Column("region")),
        partition_by=("region",),
    )
    changes = [
        cdc(None, None, LOAD, 0, **item(1), region="eu"),
        cdc(None, None, LOAD, 1, **item(2), region="eu"),
        cdc("U", 1, DAY2, 0, **item(1, "new"), region="us", loyalty="gold"),
    ]
    append_bronze(spark, lakehouse, table, changes, extra=("loyalty",))
    [result] = run_silver(spark, lakehouse, Domain(tables=(table,)))
    assert result.status is Status.WARNED
    assert result.messages == [
        f"table 'regional', file {DAY2}: undeclared column(s) loyalty in bronze, ignored"
    ]
    df = read(spark, lakehouse, table.name)
    assert "loyalty" not in df.columns
    assert sorted(tuple(r) for r in df.select("item_id", "name", "region").collect()) == [
        (1, "new", "us"),
        (2, "n2", "eu"),
    ]
    path = lakehouse.table_path("silver", table.name)
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    assert detail["partitionColumns"] == ["region"]
    assert detail["properties"]["delta.enableChangeDataFeed"] == "true"


def read_bronze(spark: SparkSession, path: str) -> DataFrame:
    return spark.read.format("delta").load(path)


def test_vacuumed_bronze_files_are_reapplied_from_the_snapshot(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    """Silver stalled while bronze was compacted and vacuumed: its change feed is gone."""
    append_bronze(spark, lakehouse, ITEMS, FULL_LOAD)
    run_silver(spark, lakehouse, DOMAIN)
    append_bronze(spark, lakehouse, ITEMS, CDC)
    append_bronze(spark, lakehouse, ITEMS, LATE_CHANGES)
    bronze = lakehouse.table_path("bronze", ITEMS.name)
    spark.sql(f"OPTIMIZE delta.`{bronze}`")
    # What VACUUM does once the retention has passed: delete the files no longer referenced.
    live = {Path(uri.removeprefix("file:")).name for uri in read_bronze(spark, bronze).inputFiles()}
    removed = [p for p in Path(bronze).glob("*.parquet") if p.name not in live]
    assert removed
    for path in removed:
        path.unlink()

    [result] = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=0.5)
    assert not result.failed
    assert any("are gone (vacuumed)" in m for m in result.messages), result.messages
    expected = expected_silver(ITEMS, ALL_CHANGES)
    assert silver_rows(spark, lakehouse, ITEMS) == expected.rows(ITEMS.column_names)
    assert quarantined(spark, lakehouse, ITEMS) == expected.quarantine
