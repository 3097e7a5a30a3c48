"""Shared fixtures: one SparkSession (real Spark + Delta) for the whole test run."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.layout import Lakehouse
    from medallion.pipeline import RunReport
    from medallion.spec import Domain

# Spark hands timestamps to Python in the process's local zone: make that UTC, as the session is.
os.environ["TZ"] = "UTC"
time.tzset()

#: Size of the generated demo data in the end-to-end tests (about 10k sales_items rows).
PIPELINE_SCALE = 0.01
#: At this scale each table gets only a few dozen changes per batch, so the injected bad rows
#: are a larger share than the default limit allows.
PIPELINE_MAX_BAD_RATIO = 0.5

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


@pytest.fixture
def lakehouse(tmp_path: Path) -> Lakehouse:
    """An empty lakehouse in the test's own temporary folder."""
    from medallion.layout import Lakehouse

    return Lakehouse.at(str(tmp_path / "lake"))


@pytest.fixture(scope="session")
def demo_domain() -> Domain:
    """The demo's declarations, from the repository's ``domain/`` folder."""
    from tests.demo import load_demo

    return load_demo()


@dataclass(frozen=True)
class PipelineRun:
    """A lakehouse taken through two runs: batches 0-1, then (incrementally) batches 2-3."""

    lakehouse: Lakehouse
    first: RunReport
    second: RunReport


@pytest.fixture(scope="session")
def pipeline_run(
    spark: SparkSession, demo_domain: Domain, tmp_path_factory: pytest.TempPathFactory
) -> PipelineRun:
    from medallion.generate import generate
    from medallion.layout import Lakehouse
    from medallion.pipeline import run

    lakehouse = Lakehouse.at(str(tmp_path_factory.mktemp("pipeline") / "lakehouse"))
    reports = []
    for batches in ([0, 1], [2, 3]):
        generate(lakehouse, domain=demo_domain, scale=PIPELINE_SCALE, batches=batches)
        reports.append(run(spark, lakehouse, demo_domain, max_bad_ratio=PIPELINE_MAX_BAD_RATIO))
    return PipelineRun(lakehouse, *reports)
