"""Silver-shaped Delta tables (with Change Data Feed) written directly, to test gold alone.

Silver's contract: declared columns and types, one row per live key, optional ``_``-prefixed
metadata columns (``_silver_note`` here, which gold must ignore), CDF enabled. Changes are
applied with a MERGE like silver's, so the feed holds pre- and post-images.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.layout import Lakehouse, Layer
from medallion.results import TableResult
from medallion.spec import Table
from tests.demo import load_demo
from tests.reference.gold_reference import Row, sort_key

METADATA = "_silver_note"


def ddl(table: Table) -> str:
    return ", ".join(f"{c.name} {c.type}" for c in table.columns)


def frame(spark: SparkSession, name: str, rows: list[Row]) -> DataFrame:
    """Silver table ``name`` as a DataFrame (declared columns only) from dict rows."""
    table = load_demo().table(name)
    data = [tuple(row.get(c) for c in table.column_names) for row in rows]
    return spark.createDataFrame(data, ddl(table))


def frames(spark: SparkSession, silver: dict[str, list[Row]]) -> dict[str, DataFrame]:
    return {name: frame(spark, name, rows) for name, rows in silver.items()}


def with_metadata(df: DataFrame) -> DataFrame:
    return df.withColumn(METADATA, F.lit("ignored by gold"))


def write_silver(spark: SparkSession, lakehouse: Lakehouse, silver: dict[str, list[Row]]) -> None:
    """Create (or replace) each silver table with CDF enabled (tables written concurrently)."""

    def write(name: str) -> None:
        (
            with_metadata(frame(spark, name, silver[name]))
            .coalesce(1)
            .write.format("delta")
            .mode("overwrite")
            .option("delta.enableChangeDataFeed", "true")
            .save(lakehouse.table_path(Layer.SILVER, name))
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, silver))


def apply(
    spark: SparkSession,
    lakehouse: Lakehouse,
    name: str,
    upserts: Sequence[Row] = (),
    deletes: Sequence[Any] = (),
) -> None:
    """One silver commit: upsert full rows and delete keys (single-column keys)."""
    table = load_demo().table(name)
    (key,) = table.primary_key
    changes = [dict(row, _delete=False) for row in upserts]
    changes += [{key: k, "_delete": True} for k in deletes]
    source = frame(spark, name, changes).join(
        spark.createDataFrame(
            [(row[key], row["_delete"]) for row in changes], f"{key} bigint, _delete boolean"
        ),
        key,
    )
    target = DeltaTable.forPath(spark, lakehouse.table_path(Layer.SILVER, name))
    (
        target.alias("t")
        .merge(with_metadata(source).alias("s"), f"t.{key} = s.{key}")
        .whenMatchedDelete(condition="s._delete")
        .whenMatchedUpdate(set={c: f"s.{c}" for c in (*table.column_names, METADATA)})
        .whenNotMatchedInsert(
            condition="NOT s._delete",
            values={c: f"s.{c}" for c in (*table.column_names, METADATA)},
        )
        .execute()
    )


def rows_of(df: DataFrame) -> list[tuple]:
    """Collected rows as sorted tuples (comparable with the reference's)."""
    return sorted((tuple(r) for r in df.collect()), key=sort_key)


def read_rows(spark: SparkSession, path: str) -> list[tuple]:
    return rows_of(spark.read.format("delta").load(path))


# --- a small random silver dataset --------------------------------------------------------

CATEGORIES = ("books", "games", None)
REGIONS = ("north", "south", None)
STATES = ("CA", "NY", None)


def random_silver(seed: int, sales: int = 40) -> dict[str, list[Row]]:
    """Live silver rows with the edge cases gold must handle.

    NULLs in optional columns, items of missing products and sales, sales of missing clients
    and sales people, completed sales without items, several primary addresses, prices and
    discounts whose nets end in a half cent, ties between sales people.
    """
    rnd = random.Random(seed)
    start = datetime(2024, 1, 30, 22, 0, 0)

    def maybe(value: Any, p: float = 0.1) -> Any:
        return None if rnd.random() < p else value

    clients = [
        {"client_id": i, "name": maybe(f"client {i}"), "email": f"c{i}@x.io"} for i in range(1, 9)
    ]
    addresses = [
        {
            "address_id": i,
            "client_id": maybe(rnd.randint(1, 10)),
            "state": maybe(rnd.choice(STATES)),
            "is_primary": maybe(rnd.random() < 0.6),
        }
        for i in range(1, 12)
    ]
    people = [
        {"sales_person_id": i, "name": f"person {i}", "region": rnd.choice(REGIONS)}
        for i in range(1, 5)
    ]
    products = [
        {
            "product_id": i,
            "name": f"product {i}",
            "category": rnd.choice(CATEGORIES),
            "unit_price": Decimal("9.99"),
        }
        for i in range(1, 6)
    ]
    sale_rows = [
        {
            "sale_id": i,
            "client_id": maybe(rnd.randint(1, 10)),
            "sales_person_id": maybe(rnd.randint(1, 6)),
            "sale_ts": maybe(start + timedelta(hours=rnd.randint(0, 24 * 40)), 0.05),
            "status": rnd.choice(("completed", "completed", "completed", "cancelled", "pending")),
            "total_amount": Decimal("0.00"),
        }
        for i in range(1, sales + 1)
    ]
    prices = [Decimal("0.05"), Decimal("1.15"), Decimal("2.50"), Decimal("19.99"), Decimal("0.00")]
    discounts = [Decimal("0"), Decimal("0.1"), Decimal("0.005"), Decimal("0.333"), None]
    items = [
        {
            "sale_item_id": i,
            "sale_id": rnd.randint(1, sales + 3),
            "product_id": rnd.randint(1, 7),
            "quantity": rnd.randint(1, 5),
            "unit_price": rnd.choice(prices),
            "discount": rnd.choice(discounts),
        }
        for i in range(1, sales * 2)
    ]
    employees = [
        {
            "employee_id": i,
            "name": f"employee {i}",
            "age": rnd.choice((25, 30, 31)),
            "active": maybe(rnd.random() < 0.7),
            "salary": maybe(Decimal(rnd.randint(100000, 900000)) / 100),
            "reference_date": maybe(date(2024, rnd.randint(1, 3), rnd.randint(1, 28)), 0.05),
        }
        for i in range(1, 30)
    ]
    return {
        "clients": clients,
        "client_addresses": addresses,
        "sales_people": people,
        "products": products,
        "sales": sale_rows,
        "sales_items": items,
        "employees": employees,
    }


class Silver:
    """Silver tables kept twice: as Delta tables (what gold reads) and as Python rows (what the
    reference reads); every change is applied to both."""

    def __init__(self, spark: SparkSession, lakehouse: Lakehouse, rows: dict[str, list[dict]]):
        self.spark, self.lakehouse = spark, lakehouse
        self.rows = copy.deepcopy(rows)
        write_silver(spark, lakehouse, self.rows)

    def key(self, table: str) -> str:
        return load_demo().table(table).primary_key[0]

    def get(self, table: str, key: Any) -> dict:
        return next(r for r in self.rows[table] if r[self.key(table)] == key)

    def change(self, table: str, upserts: Sequence[dict] = (), deletes: Sequence[Any] = ()) -> None:
        """One silver commit on ``table``: upsert whole rows, delete keys."""
        self.commit({table: (upserts, deletes)})

    def update(self, table: str, key: Any, **values: Any) -> None:
        self.change(table, [{**self.get(table, key), **values}])

    def commit(self, changes: dict[str, tuple[Sequence[dict], Sequence[Any]]]) -> None:
        """One commit per table, the tables written concurrently."""
        for table, (upserts, deletes) in changes.items():
            key = self.key(table)
            replaced = {r[key] for r in upserts} | set(deletes)
            self.rows[table] = [r for r in self.rows[table] if r[key] not in replaced]
            self.rows[table] += [dict(r) for r in upserts]

        def write(table: str) -> None:
            apply(self.spark, self.lakehouse, table, *changes[table])

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(write, changes))


def assert_ok(results: list[TableResult]) -> dict[str, str]:
    """The results' messages by mart, after checking that none failed."""
    assert [r.status for r in results if r.failed] == [], [r.messages for r in results]
    return {r.table: " ".join(r.messages) for r in results}


def completed_sales_with_items(silver: Silver) -> list[dict]:
    sold = {i["sale_id"] for i in silver.rows["sales_items"]}
    return [
        s
        for s in silver.rows["sales"]
        if s["status"] == "completed" and s["sale_id"] in sold and s["sale_ts"] is not None
    ]
