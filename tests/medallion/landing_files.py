"""Small hand-made landing files for tests (the generator makes the big, realistic ones)."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession

from medallion.layout import Lakehouse
from tests.demo import load_demo


def write_parquet(lakehouse: Lakehouse, table: str, key: str, rows: list[dict[str, Any]]) -> Path:
    """Write rows as a parquet landing file at ``<landing>/<source>/<table>/<key>``."""
    path = Path(lakehouse.landing_dir(load_demo().table(table))) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def write_csv(lakehouse: Lakehouse, table: str, key: str, rows: list[dict[str, Any]]) -> Path:
    """Write rows as a CSV landing file with a header; None becomes an empty field."""
    path = Path(lakehouse.landing_dir(load_demo().table(table))) / key
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return path


def product(product_id: int, price: str = "9.99", **extra: Any) -> dict[str, Any]:
    return {
        "product_id": product_id,
        "name": f"p{product_id}",
        "category": "toys",
        "unit_price": Decimal(price),
        "active": True,
        **extra,
    }


def change(op: str, seq: int, row: dict[str, Any]) -> dict[str, Any]:
    """A CDC row: DMS columns first, then the table's own."""
    return {
        "Op": op,
        "commit_ts": datetime(2024, 1, 1, 0, 0, seq),
        "change_seq": f"{seq:020d}",
        **row,
    }


def employee(employee_id: int, age: Any = 30, **extra: Any) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "name": f"e{employee_id}",
        "age": age,
        "active": "true",
        "salary": "1000.00",
        "reference_date": "2024-01-31",
        **extra,
    }


def land_sample(lakehouse: Lakehouse) -> dict[str, int]:
    """A full load and a CDC file for products (parquet) and employees (CSV)."""
    write_parquet(lakehouse, "products", "LOAD00000001.parquet", [product(i) for i in (1, 2, 3)])
    write_parquet(
        lakehouse,
        "products",
        "2024/01/02/20240102-120000000.parquet",
        [change("U", 5, product(1, "19.99")), change("D", 6, {"product_id": 2})],
    )
    write_csv(lakehouse, "employees", "LOAD00000001.csv", [employee(1), employee(2, None)])
    write_csv(
        lakehouse,
        "employees",
        "2024/02/01/20240201-080000000.csv",
        [{"Op": "U", "commit_ts": "2024-02-01 08:00:00.250000", **employee(1, 31)}],
    )
    return {"products": 5, "employees": 3}


def bronze_df(spark: SparkSession, lakehouse: Lakehouse, table: str) -> DataFrame:
    return spark.read.format("delta").load(lakehouse.table_path("bronze", table))
