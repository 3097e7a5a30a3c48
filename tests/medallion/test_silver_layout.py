"""Silver's layout: files clustered by key, so a batch of recent keys rewrites few files."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion import delta_io
from medallion import maintain as maintain_module
from medallion.layout import Lakehouse
from medallion.maintain import maintain
from medallion.silver import clustering, run_silver
from medallion.spec import Table
from medallion.spec.contract import CLUSTER_BY_PROPERTY
from tests.medallion.silver_cases import DOMAIN, ITEMS, LOAD, item
from tests.medallion.silver_support import append_bronze, cdc, silver_rows
from tests.reference.silver import expected_silver

pytestmark = pytest.mark.spark

LOADED = 2_000
FILE_ROWS = 200
DAY = "2024/02/01/20240201-100000000.csv"
FULL_LOAD = [cdc(None, None, LOAD, i - 1, **item(i, qty=i)) for i in range(1, LOADED + 1)]
#: OLTP-shaped: the newest rows change and new rows arrive.
RECENT = [
    *[cdc("U", 100 + i, DAY, i, **item(LOADED - i, "changed")) for i in range(10)],
    *[cdc("I", 200 + i, DAY, 10 + i, **item(LOADED + 1 + i)) for i in range(10)],
]


def hashed(df: DataFrame, _table: Table, partitions: int) -> DataFrame:
    """The layout before clustering: rows spread over files by hash."""
    return df.repartition(partitions)


def rewritten(messages: list[str]) -> tuple[int, int]:
    """(files rewritten, files before) from the silver result's MERGE message."""
    found = [re.search(r"MERGE rewrote (\d+) of (\d+) file", m) for m in messages]
    [match] = [m for m in found if m]
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def loaded(spark: SparkSession, lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch) -> Lakehouse:
    """Silver after a 2,000-row full load, written at 200 rows per file."""
    monkeypatch.setattr(clustering, "FILE_ROWS", FILE_ROWS)
    append_bronze(spark, lakehouse, ITEMS, FULL_LOAD)
    [result] = run_silver(spark, lakehouse, DOMAIN)
    assert not result.failed, result.messages
    return lakehouse


def test_a_batch_of_recent_keys_rewrites_only_the_files_holding_them(
    spark: SparkSession, loaded: Lakehouse
) -> None:
    path = loaded.table_path("silver", ITEMS.name)
    assert delta_io.table_property(spark, path, CLUSTER_BY_PROPERTY) == "item_id"
    # copy-on-write: deletion vectors stay off (docs/contract.md#layout-clustered-by-key)
    assert delta_io.table_property(spark, path, "delta.enableDeletionVectors") in (None, "false")
    changed = [LOADED - i for i in range(10)]
    # Where the range partitioner put the file boundaries depends on its sample, so the files
    # holding the changed keys are read from the table: one, or two adjacent ones.
    holding = (
        spark.read.format("delta")
        .load(path)
        .where(F.col("item_id").isin(changed))
        .select("_metadata.file_path")
        .distinct()
        .count()
    )
    assert 1 <= holding <= 2
    append_bronze(spark, loaded, ITEMS, RECENT)
    [result] = run_silver(spark, loaded, DOMAIN)

    files, before = rewritten(result.messages)
    assert before >= LOADED // FILE_ROWS
    assert files == holding  # only the files holding keys 1991..2000
    expected = expected_silver(ITEMS, [*FULL_LOAD, *RECENT])
    assert silver_rows(spark, loaded, ITEMS) == sorted(
        tuple(row[c] for c in ITEMS.column_names) for row in expected.state.values()
    )


def test_without_clustering_the_same_batch_rewrites_most_files(
    spark: SparkSession, lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counterpart: the layout, not the MERGE alone, keeps the rewrite small."""
    monkeypatch.setattr(clustering, "clustered", hashed)
    monkeypatch.setattr(clustering, "FILE_ROWS", FILE_ROWS)
    append_bronze(spark, lakehouse, ITEMS, FULL_LOAD)
    run_silver(spark, lakehouse, DOMAIN)
    append_bronze(spark, lakehouse, ITEMS, RECENT)
    [result] = run_silver(spark, lakehouse, DOMAIN)

    files, before = rewritten(result.messages)
    assert files > before // 2


def test_maintenance_reclusters_silver_by_its_key(
    spark: SparkSession, loaded: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    append_bronze(spark, loaded, ITEMS, RECENT)
    run_silver(spark, loaded, DOMAIN)
    rows = silver_rows(spark, loaded, ITEMS)
    monkeypatch.setattr(maintain_module, "CLUSTERED_FILE_ROWS", 500)

    results = {r.table: r for r in maintain(spark, loaded, layers=["silver"])}

    assert "re-clustered by item_id" in results[ITEMS.name].messages
    # 2,010 live rows in files of at most 500 rows, fewer than the MERGE left
    assert results[ITEMS.name].files_before > results[ITEMS.name].files_after >= 5
    assert silver_rows(spark, loaded, ITEMS) == rows
    quarantine: Any = results.get(ITEMS.quarantine_name)
    assert quarantine is None or not any("re-clustered" in m for m in quarantine.messages)


@pytest.mark.parametrize("value", [42, Decimal("12.50"), "O'Brien \\ co", date(2024, 2, 29)])
def test_a_key_literal_reads_back_as_the_key(spark: SparkSession, value: Any) -> None:
    assert spark.sql(f"SELECT {clustering.sql_literal(value)} AS v").first()["v"] == value
