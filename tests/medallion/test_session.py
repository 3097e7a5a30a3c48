"""The session factory gives real Spark 3.5.6 with Delta 3.3.2 (what Glue 5.1 runs)."""

from __future__ import annotations

from pathlib import Path

import pyspark
from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual


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
