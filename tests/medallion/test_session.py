"""The session factory gives real Spark 3.5.6 with Delta 3.3.2 (what Glue 5.1 runs)."""

from __future__ import annotations

import random
from pathlib import Path

import pyspark
import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from medallion.session import (
    INTERPRETED_EXPRESSIONS,
    SMALL_INPUT_BYTES,
    SMALL_INPUT_BYTES_ENV,
    sized_for,
    small_input_bytes,
)

FACTORY_MODE = "spark.sql.codegen.factoryMode"


def test_versions_match_glue_5_1(spark: SparkSession) -> None:
    assert pyspark.__version__ == "3.5.6"
    assert spark.version == "3.5.6"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert "io.delta:delta-spark_2.12:3.3.2" in spark.conf.get("spark.jars.packages")


def test_delta_merge_runs_on_real_spark(spark: SparkSession, tmp_path: Path) -> None:
    """Proof that Delta's jars load: a MERGE with update, delete and insert."""
    path = str(tmp_path / "target")
    spark.createDataFrame([(1, "a"), (2, "b"), (3, None)], "id int, v string").write.format(
        "delta"
    ).save(path)
    changes = spark.createDataFrame(
        [(1, "a2", "U"), (2, None, "D"), (4, "d", "I"), (4, "d", "I")],
        "id int, v string, op string",
    ).dropDuplicates()
    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(changes.alias("c"), "t.id = c.id")
        .whenMatchedDelete("c.op = 'D'")
        .whenMatchedUpdate(set={"v": "c.v"})
        .whenNotMatchedInsert(values={"id": "c.id", "v": "c.v"})
        .execute()
    )
    expected = spark.createDataFrame([(1, "a2"), (3, None), (4, "d")], "id int, v string")
    assertDataFrameEqual(spark.read.format("delta").load(path), expected)
    assert DeltaTable.forPath(spark, path).history(1).first()["operation"] == "MERGE"


def test_get_spark_returns_the_running_session(spark: SparkSession) -> None:
    from medallion.session import get_spark

    assert get_spark() is spark


def _compilations(spark: SparkSession) -> int:
    """Classes Spark has generated and compiled in this JVM so far."""
    metrics = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics
    return int(metrics.METRIC_COMPILATION_TIME().getCount())


@pytest.mark.parametrize(
    ("input_bytes", "interpreted"),
    [(1024, True), (SMALL_INPUT_BYTES, False), (None, False)],
)
def test_a_small_input_runs_on_interpreted_expressions_and_the_setting_is_restored(
    spark: SparkSession, input_bytes: int | None, interpreted: bool
) -> None:
    session = spark.newSession()
    session.conf.set("spark.sql.codegen.wholeStage", "false")  # expression classes only
    session.conf.set(FACTORY_MODE, "FALLBACK")  # Spark's default (the test session's differs)
    factor = random.randint(1000, 10**9)  # a new expression: never in Spark's code cache
    before = _compilations(spark)
    with sized_for(session, input_bytes):
        inside = session.conf.get(FACTORY_MODE)
        rows = session.range(3).selectExpr(f"id * {factor} AS x").where(f"x >= {factor}").collect()
    assert sorted(row.x for row in rows) == [factor, 2 * factor]
    compiled = _compilations(spark) - before
    assert (inside == INTERPRETED_EXPRESSIONS[FACTORY_MODE]) is interpreted
    assert (compiled == 0) is interpreted, compiled
    assert session.conf.get(FACTORY_MODE) == "FALLBACK"


def test_the_small_input_size_is_set_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SMALL_INPUT_BYTES_ENV, "0")
    assert small_input_bytes() == 0
    monkeypatch.setenv(SMALL_INPUT_BYTES_ENV, "8MB")
    with pytest.raises(ValueError, match=f"{SMALL_INPUT_BYTES_ENV} must be a whole number"):
        small_input_bytes()
