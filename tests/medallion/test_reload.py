"""A reload is a new snapshot, not a re-delivery (APPLY CHANGES FROM SNAPSHOT).

The source (products) is loaded, changed by CDC, then replication stops: during the gap keys are
deleted, updated and inserted with no CDC row. The table is reloaded under the same file name
(``LOAD00000001.parquet``), CDC resumes, and a change from before the reload arrives late. Silver
must equal the source state, written out by hand below: the reload's keys plus the changes
committed after it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from medallion import delta_io
from medallion.bronze import run_bronze
from medallion.layout import Lakehouse
from medallion.results import TableResult
from medallion.silver import run_silver
from tests.demo import load_demo
from tests.medallion.landing_files import product, write_parquet
from tests.medallion.silver_support import silver_rows

PRODUCTS = load_demo().table("products")
LOADED_AT = datetime(2024, 1, 1)
RELOADED_AT = LOADED_AT + timedelta(days=4)
LOAD = "LOAD00000001.parquet"
BEFORE_GAP = "2024/01/02/20240102-000000000.parquet"
LATE = "2024/01/03/20240103-000000000.parquet"  # committed before the reload, landed after it
AFTER = "2024/01/06/20240106-000000000.parquet"


def loaded(at: datetime, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    """Full-load rows: DMS writes the transfer time as ``commit_ts`` and no ``Op``."""
    return [{"commit_ts": at, **row} for row in rows]


def changed(op: str, seq: int, at: datetime, row: dict[str, Any]) -> dict[str, Any]:
    return {"Op": op, "commit_ts": at, "change_seq": f"{seq:020d}", **row}


def price(key: int, value: str) -> dict[str, Any]:
    return product(key, value)


#: Row 4 of both loads is a bad row (unit_price 0): quarantined once per load.
FIRST_LOAD = loaded(LOADED_AT, *(product(k) for k in (1, 2, 3, 4)), price(8, "0.00"), product(5))
CDC_BEFORE_GAP = [
    changed("U", 10, LOADED_AT + timedelta(days=1), price(1, "11.00")),
    changed("D", 11, LOADED_AT + timedelta(days=1, hours=1), {"product_id": 2}),
    changed("I", 12, LOADED_AT + timedelta(days=1, hours=2), product(6)),
]
# The gap: 1 -> 12.00, 3 updated then deleted, 4 -> 44.00, 6 deleted, 7 inserted; no CDC row
# reached landing except the two late ones below.
LATE_CDC = [
    changed("U", 13, LOADED_AT + timedelta(days=2), price(1, "12.00")),
    changed("U", 14, LOADED_AT + timedelta(days=2, hours=1), price(3, "33.00")),
]
RELOAD = loaded(
    RELOADED_AT, price(1, "12.00"), price(4, "44.00"), product(5), product(7), price(8, "0.00")
)
CDC_AFTER = [
    changed("U", 100, RELOADED_AT + timedelta(days=1), price(5, "55.00")),
    changed("I", 101, RELOADED_AT + timedelta(days=1, hours=1), product(9)),
]


def source_state() -> list[tuple[Any, ...]]:
    """The source table after everything above, by hand."""
    prices = {1: "12.00", 4: "44.00", 5: "55.00", 7: "9.99", 9: "9.99"}
    return sorted((k, f"p{k}", "toys", Decimal(v), True) for k, v in prices.items())


def run(spark: SparkSession, lakehouse: Lakehouse) -> tuple[TableResult, TableResult]:
    [bronze] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    [silver] = run_silver(spark, lakehouse, load_demo(), ["products"], max_bad_ratio=0.5)
    assert not bronze.failed and not silver.failed, (bronze.messages, silver.messages)
    return bronze, silver


def redeliver(lakehouse: Lakehouse, key: str) -> None:
    """The same bytes under the same name again, with a new modification time."""
    path = Path(lakehouse.landing_dir(PRODUCTS)) / key
    content = path.read_bytes()
    path.unlink()
    path.write_bytes(content)


@pytest.mark.parametrize("together", [True, False], ids=["one-batch", "reload-then-cdc"])
def test_reload_after_a_gap_leaves_silver_equal_to_the_source(
    spark: SparkSession, lakehouse: Lakehouse, together: bool
) -> None:
    write_parquet(lakehouse, "products", LOAD, FIRST_LOAD)
    write_parquet(lakehouse, "products", BEFORE_GAP, CDC_BEFORE_GAP)
    run(spark, lakehouse)
    silver = lakehouse.table_path("silver", "products")
    before_reload = delta_io.latest_version(spark, silver)
    assert [r[0] for r in silver_rows(spark, lakehouse, PRODUCTS)] == [1, 3, 4, 5, 6]

    write_parquet(lakehouse, "products", LOAD, RELOAD)  # same name, other bytes
    redeliver(lakehouse, BEFORE_GAP)
    if not together:
        bronze, _ = run(spark, lakehouse)
        assert bronze.files == 1, "the reload is ingested, the re-delivered file is not"
    write_parquet(lakehouse, "products", LATE, LATE_CDC)
    write_parquet(lakehouse, "products", AFTER, CDC_AFTER)
    bronze, _ = run(spark, lakehouse)
    assert bronze.files == (3 if together else 2)

    assert silver_rows(spark, lakehouse, PRODUCTS) == source_state()
    deleted = (
        delta_io.read_changes(spark, silver, before_reload, delta_io.latest_version(spark, silver))
        .where("_change_type = 'delete'")
        .select("product_id")
        .collect()
    )
    assert sorted(r[0] for r in deleted) == [3, 6], "gold follows silver's change feed"
    quarantine = spark.read.format("delta").load(
        lakehouse.table_path("silver", "products_quarantine")
    )
    bad = quarantine.select("product_id", "_file_key", "_row", "_rule").collect()
    assert sorted(tuple(r) for r in bad) == [("8", LOAD, 4, "unit_price_positive")] * 2

    redeliver(lakehouse, AFTER)
    bronze, again = run(spark, lakehouse)
    assert (bronze.files, bronze.rows_out, again.rows_in) == (0, 0, 0)
    assert silver_rows(spark, lakehouse, PRODUCTS) == source_state()
