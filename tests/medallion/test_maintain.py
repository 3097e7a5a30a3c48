"""Maintenance: OPTIMIZE compacts many small files, VACUUM removes the replaced ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from medallion.layout import Lakehouse
from medallion.maintain import (
    LISTING_PARALLELISM,
    RETENTION_CHECK,
    find_tables,
    maintain,
    stored_files,
)
from medallion.results import Status
from tests.demo import load_demo

APPENDS = 5


def append_small_batches(spark: SparkSession, path: str, batches: int) -> None:
    """One single-file commit per batch, like many small incremental runs."""
    for batch in range(batches):
        df = spark.createDataFrame([(batch, f"row {batch}")], "id bigint, value string")
        writer = df.coalesce(1).write.format("delta").mode("append")
        if batch == 0:  # the bronze table properties: append-only, change data feed
            writer = writer.option("delta.appendOnly", "true")
            writer = writer.option("delta.enableChangeDataFeed", "true")
        writer.save(path)


@pytest.fixture(scope="module")
def lakehouse(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Lakehouse:
    """bronze/products from many appends, a nested bookkeeping table, a broken table."""
    lake = Lakehouse.at(str(tmp_path_factory.mktemp("maintain") / "lake"))
    append_small_batches(spark, lake.table_path("bronze", "products"), APPENDS)
    append_small_batches(spark, lake.table_path("silver", "_state/products"), 1)
    broken = Path(lake.table_path("gold", "broken"))
    (broken / "_delta_log").mkdir(parents=True)
    (broken / "_delta_log" / "00000000000000000000.json").write_text("not json\n")
    Path(lake.table_path("gold", "not_a_table")).mkdir(parents=True)
    return lake


def test_finds_every_delta_table_below_a_layer_root(spark: SparkSession, lakehouse: Lakehouse):
    assert find_tables(spark, lakehouse.bronze) == ["products"]
    assert find_tables(spark, lakehouse.silver) == ["_state/products"]
    assert find_tables(spark, lakehouse.gold) == ["broken"]
    assert find_tables(spark, lakehouse.gold + "/missing") == []


def test_refuses_a_short_retention_unless_forced(spark: SparkSession, lakehouse: Lakehouse):
    with pytest.raises(ValueError, match=r"retention_hours=1 .*168"):
        maintain(spark, lakehouse, load_demo(), retention_hours=1)


def test_compaction_then_vacuum_reduce_the_files(spark: SparkSession, lakehouse: Lakehouse):
    path = lakehouse.table_path("bronze", "products")
    rows = sorted(spark.read.format("delta").load(path).collect())

    first = {r.table: r for r in maintain(spark, lakehouse, load_demo())}
    assert set(first) == {"products", "_state/products", "broken"}
    compacted = first["products"]
    assert compacted.status is Status.OK, compacted.messages
    assert (compacted.files_before, compacted.files_after) == (APPENDS, 1)
    # Within the 7-day retention VACUUM keeps the replaced files: the compacted one is added.
    assert (compacted.stored_before, compacted.stored_after) == (APPENDS, APPENDS + 1)
    assert f"bronze.products: ok; active files {APPENDS} -> 1" in str(compacted)
    assert first["_state/products"].status is Status.OK
    # A table that cannot be read is reported; the others were still maintained.
    assert first["broken"].status is Status.FAILED
    assert first["broken"].messages

    forced = maintain(
        spark, lakehouse, load_demo(), retention_hours=0, force=True, layers=["bronze"]
    )
    assert [(r.table, r.stored_before, r.stored_after) for r in forced] == [
        ("products", APPENDS + 1, 1)
    ]
    assert stored_files(spark, path)[0] == 1
    assert sorted(spark.read.format("delta").load(path).collect()) == rows
    # The session settings VACUUM ran with are back to what they were.
    assert spark.conf.get(RETENTION_CHECK, None) is None
    assert spark.conf.get(LISTING_PARALLELISM, None) is None
