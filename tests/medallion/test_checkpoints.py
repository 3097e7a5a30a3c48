"""Checkpoints made for one piece of work are freed when it ends, not when the JVM collects them."""

from __future__ import annotations

from pyspark.sql import SparkSession

from medallion import delta_io


def persisted(spark: SparkSession) -> int:
    return int(spark.sparkContext._jsc.sc().getPersistentRDDs().size())


def test_release_frees_the_checkpoint_blocks(spark: SparkSession) -> None:
    before = persisted(spark)
    frame = delta_io.checkpoint(spark.range(10).selectExpr("id * 2 AS doubled"))
    assert persisted(spark) == before + 1
    assert sorted(r.doubled for r in frame.collect()) == list(range(0, 20, 2))
    delta_io.release(frame, None)
    assert persisted(spark) == before


def test_release_leaves_other_frames_alone(spark: SparkSession) -> None:
    cached = spark.range(5).cache()
    cached.count()
    before = persisted(spark)
    delta_io.release(cached, cached.select("id"))
    assert persisted(spark) == before
    cached.unpersist()
