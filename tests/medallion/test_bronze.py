"""Bronze: each landing file appended exactly once, as received, with lineage."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from medallion import delta_io
from medallion.bronze import run_bronze
from medallion.layout import Lakehouse
from medallion.results import Status
from tests.demo import load_demo
from tests.medallion.landing_files import (
    bronze_df,
    change,
    land_sample,
    product,
    write_csv,
    write_parquet,
)
from tests.processes import spark_process_env

VOLATILE = ("_ingested_at", "_batch_id", "_source_file")


def comparable(spark: SparkSession, lakehouse: Lakehouse, table: str) -> list[tuple]:
    df = bronze_df(spark, lakehouse, table).drop(*VOLATILE)
    return sorted((tuple(row) for row in df.select(sorted(df.columns)).collect()), key=repr)


def test_rows_equal_landing_rows_and_rerun_adds_nothing(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    landed = land_sample(lakehouse)
    results = {r.table: r for r in run_bronze(spark, lakehouse, load_demo())}
    for table, rows in landed.items():
        assert results[table].rows_out == rows
        assert results[table].files == 2
        assert bronze_df(spark, lakehouse, table).count() == rows
    assert all(not r.failed for r in results.values())
    assert results["clients"].rows_out == 0

    versions = {t: DeltaTable.forPath(spark, lakehouse.table_path("bronze", t)) for t in landed}
    before = {t: v.history(1).first()["version"] for t, v in versions.items()}
    again = {r.table: r for r in run_bronze(spark, lakehouse, load_demo())}
    for table, rows in landed.items():
        assert again[table].rows_out == 0
        assert bronze_df(spark, lakehouse, table).count() == rows
        assert versions[table].history(1).first()["version"] == before[table]


def test_lineage_columns(spark: SparkSession, lakehouse: Lakehouse) -> None:
    land_sample(lakehouse)
    run_bronze(spark, lakehouse, load_demo(), ["products", "employees"])
    products = {
        (r["_file_key"], r["_row"]): r for r in bronze_df(spark, lakehouse, "products").collect()
    }
    load = products[("LOAD00000001.parquet", 2)]
    assert (load["product_id"], load["_op"], load["_full_load"]) == ("3", "I", True)
    assert load["unit_price"] == "9.99" and load["_commit_ts"] is None
    delete = products[("2024/01/02/20240102-120000000.parquet", 1)]
    assert (delete["_op"], delete["_full_load"], int(delete["_change_seq"])) == ("D", False, 6)
    assert delete["name"] is None and delete["Op"] == "D"
    assert delete["_source_file"].endswith("/retail/products/2024/01/02/20240102-120000000.parquet")

    employees = bronze_df(spark, lakehouse, "employees")
    cdc = employees.where("_full_load = false").first()
    assert cdc["_commit_ts"].isoformat() == "2024-02-01T08:00:00.250000"
    assert cdc["age"] == "31" and cdc["_change_seq"] is None
    empty = employees.where("employee_id = '2'").first()
    assert empty["age"] is None, "an empty CSV field is NULL"
    assert {r["_batch_id"] for r in employees.collect()} == {
        r["_batch_id"] for r in bronze_df(spark, lakehouse, "products").collect()
    }


def test_new_upstream_column_is_kept_and_reported(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    write_parquet(lakehouse, "products", "LOAD00000001.parquet", [product(1)])
    run_bronze(spark, lakehouse, load_demo(), ["products"])
    write_parquet(
        lakehouse,
        "products",
        "2024/01/03/20240103-000000000.parquet",
        [change("U", 9, {**product(1), "unit_price": "n/a", "supplier": "acme"})],
    )
    [result] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert result.status is Status.WARNED and not result.failed
    assert any("supplier" in m for m in result.messages)
    rows = {r["_file_key"]: r for r in bronze_df(spark, lakehouse, "products").collect()}
    assert rows["2024/01/03/20240103-000000000.parquet"]["supplier"] == "acme"
    assert rows["2024/01/03/20240103-000000000.parquet"]["unit_price"] == "n/a"
    assert rows["LOAD00000001.parquet"]["supplier"] is None


def test_files_whose_columns_differ_are_named_with_table_and_columns(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    write_parquet(lakehouse, "products", "LOAD00000001.parquet", [product(1)])
    extra = "2024/01/03/20240103-000000000.parquet"
    write_parquet(lakehouse, "products", extra, [change("U", 9, product(1, supplier="acme"))])
    short = "2024/01/03/20240103-010000000.parquet"
    without_category = {k: v for k, v in product(2).items() if k != "category"}
    write_parquet(lakehouse, "products", short, [change("I", 10, without_category)])
    [result] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert result.status is Status.WARNED and result.files == 3 and result.rows_out == 3
    assert result.messages == [
        f"table 'products', file {extra}: undeclared column(s) supplier: kept in bronze, "
        "ignored by silver (declare them to keep them)",
        f"table 'products', file {short}: declared column(s) category absent: NULL in silver",
    ]
    rows = {r["_file_key"]: r for r in bronze_df(spark, lakehouse, "products").collect()}
    assert rows[extra]["supplier"] == "acme" and rows[short]["category"] is None


def test_malformed_files_are_set_aside_and_the_rest_loads(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    land_sample(lakehouse)
    folder = Path(lakehouse.landing_dir(load_demo().table("products")))
    (folder / "2024/01/02/20240102-130000000.parquet").write_bytes(b"PAR1 truncated")
    write_csv(lakehouse, "employees", "2024/02/02/20240202-000000000.csv", [{"name": "no key"}])
    (folder.parent.parent / "hr/employees/2024/02/03").mkdir(parents=True)
    (folder.parent.parent / "hr/employees/2024/02/03/empty.csv").write_bytes(b"")

    results = {r.table: r for r in run_bronze(spark, lakehouse, load_demo())}
    assert results["products"].failed and results["employees"].failed
    assert results["products"].rejected_files == ["2024/01/02/20240102-130000000.parquet"]
    assert sorted(results["employees"].rejected_files) == [
        "2024/02/02/20240202-000000000.csv",
        "2024/02/03/empty.csv",
    ]
    assert "no primary key column employee_id" in " ".join(results["employees"].messages)
    # the good files of the same tables still loaded, and so did the other tables
    assert bronze_df(spark, lakehouse, "products").count() == 5
    assert bronze_df(spark, lakehouse, "employees").count() == 3
    rejected = Path(lakehouse.rejected_dir()) / "retail/products/2024/01/02"
    assert (rejected / "20240102-130000000.parquet").read_bytes() == b"PAR1 truncated"
    assert "unreadable parquet" in (rejected / "20240102-130000000.parquet.error.txt").read_text()
    assert not (folder / "2024/01/02/20240102-130000000.parquet").exists()


def test_a_file_landing_later_is_appended_once(spark: SparkSession, lakehouse: Lakehouse) -> None:
    land_sample(lakehouse)
    run_bronze(spark, lakehouse, load_demo(), ["products"])
    write_parquet(
        lakehouse, "products", "2024/01/04/20240104-000000000.parquet", [change("I", 7, product(9))]
    )
    [result] = run_bronze(spark, lakehouse, load_demo(), ["products"])
    assert (result.files, result.rows_out) == (1, 1)
    assert bronze_df(spark, lakehouse, "products").where("product_id = '9'").count() == 1


def test_crash_mid_run_then_rerun_equals_clean_run(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, crashed = Lakehouse.at(str(tmp_path / "clean")), Lakehouse.at(str(tmp_path / "crash"))
    land_sample(clean)
    shutil.copytree(clean.landing, crashed.landing)
    run_bronze(spark, clean, load_demo())

    real_append = delta_io.append_counted

    def crash_on_employees(spark: SparkSession, df: DataFrame, path: str, **options: Any) -> int:
        if path.endswith("/employees"):
            raise KeyboardInterrupt("killed before the employees commit")
        return real_append(spark, df, path, **options)

    monkeypatch.setattr(delta_io, "append_counted", crash_on_employees)
    with pytest.raises(KeyboardInterrupt):
        run_bronze(spark, crashed, load_demo())
    assert bronze_df(spark, crashed, "products").count() == 5
    assert not DeltaTable.isDeltaTable(spark, crashed.table_path("bronze", "employees"))
    monkeypatch.undo()

    run_bronze(spark, crashed, load_demo())
    for table in ("products", "employees"):
        assert comparable(spark, crashed, table) == comparable(spark, clean, table)


def test_killed_process_then_rerun_equals_clean_run(spark: SparkSession, tmp_path: Path) -> None:
    """A real interruption: SIGKILL the CLI once the first table is committed."""
    clean, killed = Lakehouse.at(str(tmp_path / "clean")), Lakehouse.at(str(tmp_path / "killed"))
    land_sample(clean)
    shutil.copytree(clean.landing, killed.landing)
    run_bronze(spark, clean, load_demo())

    root = str(tmp_path / "killed")
    process = subprocess.Popen(
        [sys.executable, "-m", "medallion.cli", "run", "--layer", "bronze", "--lakehouse", root],
        env=spark_process_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first_commit = Path(killed.table_path("bronze", "products")) / "_delta_log"
    deadline = time.monotonic() + 120
    while not any(first_commit.glob("*.json")) and process.poll() is None:
        assert time.monotonic() < deadline, "the bronze run never committed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()

    run_bronze(spark, killed, load_demo())
    for table in ("products", "employees"):
        assert comparable(spark, killed, table) == comparable(spark, clean, table)


def test_cli_exit_status_says_a_file_failed(lakehouse: Lakehouse, spark: SparkSession) -> None:
    from medallion.cli import main

    land_sample(lakehouse)
    root = str(Path(lakehouse.landing).parent)
    assert main(["run", "--layer", "bronze", "--lakehouse", root]) == 0
    folder = Path(lakehouse.landing_dir(load_demo().table("products")))
    (folder / "LOAD00000002.parquet").write_bytes(b"not parquet")
    assert main(["run", "--layer", "bronze", "--lakehouse", root]) == 1
