"""The quarantine entries the stack declares in the catalog are the tables silver really writes.

Silver runs on landing files with rows that fail a rule; the schema of the resulting
``<table>_quarantine`` Delta table (column names, order and Spark ``simpleString`` types) must
equal the entry ``infra.catalog`` declares for it, which Athena shows until a job refreshes it.
"""

from __future__ import annotations

from pyspark.sql import SparkSession

from infra.catalog import DeltaTableSpec, silver_tables
from medallion.layout import Lakehouse
from medallion.pipeline import run
from medallion.spec.contract import QUARANTINE_RULE, QUARANTINE_RULES, quarantine_name
from tests.demo import load_demo
from tests.medallion.landing_files import change, employee, write_parquet

TABLE = "employees"


def declared(name: str) -> DeltaTableSpec:
    (spec,) = [s for s in silver_tables(load_demo()) if s.name == name]
    return spec


def test_declared_quarantine_entry_matches_the_real_quarantine_table(
    spark: SparkSession, lakehouse: Lakehouse
) -> None:
    write_parquet(
        lakehouse,
        TABLE,
        "LOAD00000001.parquet",
        [
            employee(1),
            employee(1),  # a duplicate: one key, applied once
            employee(2, age=200),  # breaks the age rule: quarantined
            employee(None),  # no key: quarantined
        ],
    )
    write_parquet(lakehouse, TABLE, "2024/01/01/cdc.parquet", [change("U", 5, employee(3, age=7))])
    # Most rows here are bad on purpose: tolerate them, the run must still succeed.
    report = run(
        spark, lakehouse, load_demo(), ["bronze", "silver"], tables=[TABLE], max_bad_ratio=1.0
    )
    assert not [r for r in report.results if r.failed], report.results

    name = quarantine_name(TABLE)
    table = spark.read.format("delta").load(lakehouse.table_path("silver", name))
    rules = {row[QUARANTINE_RULE] for row in table.select(QUARANTINE_RULE).collect()}
    assert len(rules) >= 2, f"expected the age and key rules to quarantine rows, got {rules}"
    assert table.where(f"size({QUARANTINE_RULES}) = 0").count() == 0

    real = [(field.name, field.dataType.simpleString()) for field in table.schema.fields]
    spec = declared(name)
    assert [*spec.columns, *spec.partition_keys] == real
