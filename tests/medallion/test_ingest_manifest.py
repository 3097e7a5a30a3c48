"""Bronze's file ledger: detection without reading bronze, crash repair, content identity."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from medallion import delta_io, ingest_manifest
from medallion.bronze import run_bronze
from medallion.layout import Lakehouse
from medallion.results import Status
from tests.demo import load_demo
from tests.medallion.landing_files import bronze_df, change, land_sample, product, write_parquet
from tests.medallion.silver_support import append_bronze, cdc

PRODUCTS = load_demo().table("products")
NEW_FILE = "2024/01/05/20240105-000000000.parquet"


def ledger(spark: SparkSession, lakehouse: Lakehouse) -> list[tuple[str, int | None]]:
    path = ingest_manifest.ledger_path(lakehouse, PRODUCTS)
    rows = spark.read.format("delta").load(path).select("file_key", "bronze_version").collect()
    return sorted((r[0], r[1]) for r in rows)


def bronze_data_files(lakehouse: Lakehouse) -> list[Path]:
    root = Path(lakehouse.table_path("bronze", "products"))
    return [p for p in root.rglob("*.parquet") if "_delta_log" not in p.parts]


def test_new_file_detection_reads_no_bronze_data_file(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    land_sample(lakehouse)
    run_bronze(spark, lakehouse, load_demo(), ["products"])
    files = bronze_data_files(lakehouse)
    assert files
    for path in files:  # every bronze data file unreadable from now on
        path.write_bytes(b"not parquet any more")
    with pytest.raises(Exception, match=r"(?i)parquet|checksum"):
        bronze_df(spark, lakehouse, "products").select("_file_key").collect()

    write_parquet(
        lakehouse, "products", NEW_FILE, [change("I", 7, product(9)), change("I", 8, product(10))]
    )
    [result] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert result.status is Status.OK, result.messages
    assert (result.files, result.rows_out) == (1, 2)
    [again] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert (again.status, again.files, again.rows_out) == (Status.OK, 0, 0)
    keys = [key for key, _ in ledger(spark, lakehouse)]
    assert keys == sorted(
        ["LOAD00000001.parquet", "2024/01/02/20240102-120000000.parquet", NEW_FILE]
    )


def test_crash_between_bronze_commit_and_ledger_is_repaired_from_that_commit_only(
    spark: SparkSession, lakehouse: Lakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    land_sample(lakehouse)
    run_bronze(spark, lakehouse, load_demo(), ["products"])
    write_parquet(lakehouse, "products", NEW_FILE, [change("I", 7, product(9))])

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("killed after the bronze commit, before the ledger")

    monkeypatch.setattr(ingest_manifest.Ledger, "_append", crash)
    with pytest.raises(KeyboardInterrupt):
        run_bronze(spark, lakehouse, load_demo(), ["products"])
    monkeypatch.undo()
    bronze = lakehouse.table_path("bronze", "products")
    assert delta_io.latest_version(spark, bronze) == 1  # committed, the ledger not
    assert NEW_FILE not in dict(ledger(spark, lakehouse))

    read: list[tuple[int, int]] = []
    real = delta_io.logged_commits

    def spy(spark: SparkSession, path: str, app_id: str, after: int, until: int) -> list:
        if path == bronze:
            read.append((after, until))
        return real(spark, path, app_id, after, until)

    monkeypatch.setattr(delta_io, "logged_commits", spy)
    [rerun] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert (rerun.files, rerun.rows_out) == (0, 0)
    assert read == [(0, 1)], "the repair reads only the bronze commit the ledger lacks"
    assert dict(ledger(spark, lakehouse))[NEW_FILE] == 1
    assert bronze_df(spark, lakehouse, "products").count() == 6


def test_reload_under_the_same_name_is_ingested_an_identical_redelivery_is_not(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    path = write_parquet(lakehouse, "products", "LOAD00000001.parquet", [product(1), product(2)])
    [first] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert first.rows_out == 2

    content = path.read_bytes()
    path.unlink()
    path.write_bytes(content)  # DMS delivers the same file again
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 5_000_000_000))
    [redelivered] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert (redelivered.files, redelivered.rows_out) == (0, 0)
    assert redelivered.messages == ["1 re-delivered unchanged file(s) skipped"]

    write_parquet(lakehouse, "products", "LOAD00000001.parquet", [product(1, "5.00")])
    [reloaded] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert (reloaded.files, reloaded.rows_out) == (1, 1)
    rows = bronze_df(spark, lakehouse, "products").select("product_id", "unit_price", "_batch_id")
    assert sorted((r[0], r[1]) for r in rows.collect()) == [
        ("1", "5.00"),
        ("1", "9.99"),
        ("2", "9.99"),
    ]
    assert rows.select("_batch_id").distinct().count() == 2


def test_bronze_written_without_a_ledger_is_bootstrapped_from_its_file_keys(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    """A lakehouse from before the ledger: its files are known by key, read once."""
    write_parquet(lakehouse, "products", "LOAD00000001.parquet", [product(1), product(2)])
    old_rows = [cdc(None, None, "LOAD00000001.parquet", i, **product(i + 1)) for i in range(2)]
    append_bronze(spark, lakehouse, PRODUCTS, old_rows)
    write_parquet(lakehouse, "products", NEW_FILE, [change("I", 7, product(9))])

    [result] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert (result.files, result.rows_out) == (1, 1)
    assert bronze_df(spark, lakehouse, "products").count() == 3
    bronze = DeltaTable.forPath(spark, lakehouse.table_path("bronze", "products"))
    assert bronze.history(1).first()["version"] == 1
    assert sorted(dict(ledger(spark, lakehouse))) == sorted(["LOAD00000001.parquet", NEW_FILE])
