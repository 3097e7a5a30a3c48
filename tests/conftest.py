"""Shared fixtures: one SparkSession (real Spark + Delta) for the whole test run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: The moto server fixtures (``moto_endpoint``, ``aws``, ``s3_spark``) for any test that needs AWS.
pytest_plugins = ("tests.e2e.moto",)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The session every Spark test shares: local[2], two shuffle partitions, UI off.

    hadoop-aws is on the classpath too, so the S3 tests reuse this session.
    """
    os.environ.setdefault("MEDALLION_DRIVER_MEMORY", "2g")
    from medallion.session import get_spark

    session = get_spark(
        "medallion-tests",
        master="local[2]",
        s3=True,
        conf={
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.databricks.delta.snapshotPartitions": "1",
        },
    )
    yield session
    session.stop()
