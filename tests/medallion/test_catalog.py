"""Catalog registration against a moto server: native Delta entries with the real schema."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from medallion.catalog import DELTA_PARAMETERS, Action, glue_type, register_layer
from medallion.layout import Lakehouse
from tests.demo import load_demo
from tests.e2e.moto import Aws


@pytest.mark.parametrize(
    ("data_type", "expected"),
    [
        (T.LongType(), "bigint"),
        (T.IntegerType(), "int"),
        (T.DecimalType(10, 2), "decimal(10,2)"),
        (T.TimestampType(), "timestamp"),
        (T.TimestampNTZType(), "timestamp"),
        (T.DateType(), "date"),
        (T.BooleanType(), "boolean"),
        (T.ArrayType(T.StringType()), "array<string>"),
        (T.MapType(T.StringType(), T.DecimalType(4, 3)), "map<string,decimal(4,3)>"),
        (
            T.StructType(
                [T.StructField("a", T.LongType()), T.StructField("b", T.TimestampNTZType())]
            ),
            "struct<a:bigint,b:timestamp>",
        ),
    ],
)
def test_spark_types_are_spelled_as_glue_types(data_type: T.DataType, expected: str) -> None:
    assert glue_type(data_type) == expected


PRODUCTS = "product_id bigint, name string, unit_price decimal(10,2), active boolean"


def write(
    spark: SparkSession,
    path: str,
    ddl: str,
    rows: list[tuple],
    partition_by: str | None = None,
    **options: str,
) -> None:
    writer = spark.createDataFrame(rows, ddl).write.format("delta").mode("append")
    if partition_by:
        writer = writer.partitionBy(partition_by)
    for key, value in options.items():
        writer = writer.option(key, value)
    writer.save(path)


def columns(entry: dict) -> list[tuple[str, str]]:
    return [(c["Name"], c["Type"]) for c in entry["StorageDescriptor"]["Columns"]]


def test_silver_and_gold_tables_registered_with_their_schema(
    spark: SparkSession, aws: Aws, tmp_path: Path
) -> None:
    lake = Lakehouse.at(str(tmp_path / "lake"))
    write(spark, lake.table_path("silver", "products"), PRODUCTS, [(1, "a", Decimal("9.99"), True)])
    write(
        spark,
        lake.table_path("silver", "products_quarantine"),
        "Op string, product_id string, _rule string",
        [("I", None, "pk_not_null")],
    )
    write(
        spark,
        lake.table_path("gold", "sales_daily"),
        "sale_date date, category string, net_revenue decimal(18,2), sale_month date",
        [],
        partition_by="sale_month",
    )
    silver = register_layer(spark, lake, load_demo(), "silver", "medallion_silver", client=aws.glue)
    gold = register_layer(spark, lake, load_demo(), "gold", "medallion_gold", client=aws.glue)

    # Only the tables that exist are registered; the database is created when missing.
    assert [(r.table, r.action) for r in silver] == [
        ("products", Action.CREATED),
        ("products_quarantine", Action.CREATED),
    ]
    assert [(r.table, r.action) for r in gold] == [("sales_daily", Action.CREATED)]
    databases = {d["Name"] for d in aws.glue.get_databases()["DatabaseList"]}
    assert {"medallion_silver", "medallion_gold"} <= databases

    products = aws.glue.get_table(DatabaseName="medallion_silver", Name="products")["Table"]
    assert products["TableType"] == "EXTERNAL_TABLE"
    assert {k: products["Parameters"][k] for k in DELTA_PARAMETERS} == dict(DELTA_PARAMETERS)
    assert products["StorageDescriptor"]["Location"] == lake.table_path("silver", "products")
    assert columns(products) == [
        ("product_id", "bigint"),
        ("name", "string"),
        ("unit_price", "decimal(10,2)"),
        ("active", "boolean"),
    ]
    quarantine = aws.glue.get_table(DatabaseName="medallion_silver", Name="products_quarantine")
    assert columns(quarantine["Table"])[0] == ("op", "string")  # the catalog folds case

    daily = aws.glue.get_table(DatabaseName="medallion_gold", Name="sales_daily")["Table"]
    assert [c["Name"] for c in daily["PartitionKeys"]] == ["sale_month"]
    assert "sale_month" not in [name for name, _ in columns(daily)]

    # A table the catalog refuses is reported with the cause; the others are still registered.
    refusing = Refusing(aws.glue, table="products")
    again = register_layer(spark, lake, load_demo(), "silver", "other_silver", client=refusing)
    assert [(r.table, r.action) for r in again] == [
        ("products", Action.FAILED),
        ("products_quarantine", Action.CREATED),
    ]
    assert "AccessDenied" in again[0].messages[0]


class Refusing:
    """A Glue client that refuses to create one table, as a missing IAM grant would."""

    def __init__(self, client: object, table: str) -> None:
        self.client, self.table = client, table

    def __getattr__(self, name: str) -> object:
        return getattr(self.client, name)

    def create_table(self, **kwargs: dict) -> object:
        if kwargs["TableInput"]["Name"] == self.table:
            raise PermissionError(f"AccessDenied: glue:CreateTable on {self.table}")
        return self.client.create_table(**kwargs)


def test_a_new_column_updates_the_entry_and_a_rerun_changes_nothing(
    spark: SparkSession, aws: Aws, tmp_path: Path
) -> None:
    lake = Lakehouse.at(str(tmp_path / "lake"))
    path = lake.table_path("bronze", "products")
    write(spark, path, "product_id string, name string", [("1", "a")])
    aws.glue.create_database(DatabaseInput={"Name": "bronze_db"})
    aws.glue.create_table(  # as the stack declares it: a description to keep
        DatabaseName="bronze_db",
        TableInput={"Name": "products", "Description": "from the stack", "Parameters": {}},
    )

    first = register_layer(spark, lake, load_demo(), "bronze", "bronze_db", client=aws.glue)
    assert [(r.table, r.action) for r in first] == [("products", Action.UPDATED)]

    write(
        spark,
        path,
        "product_id string, name string, color string",
        [("2", "b", "red")],
        mergeSchema="true",
    )
    second = register_layer(spark, lake, load_demo(), "bronze", "bronze_db", client=aws.glue)
    assert [(r.table, r.action, r.columns) for r in second] == [("products", Action.UPDATED, 3)]
    entry = aws.glue.get_table(DatabaseName="bronze_db", Name="products")["Table"]
    assert columns(entry)[-1] == ("color", "string")
    assert entry["Description"] == "from the stack"
    assert entry["Parameters"]["table_type"] == "DELTA"

    third = register_layer(spark, lake, load_demo(), "bronze", "bronze_db", client=aws.glue)
    assert [r.action for r in third] == [Action.UNCHANGED]
