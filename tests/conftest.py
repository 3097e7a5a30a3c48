"""Shared fixtures: one SparkSession (real Spark + Delta) for the whole test run.

Tests are marked by what they need, from the fixtures they use (so nobody has to remember):
``spark`` for the SparkSession, ``s3`` for the moto server, ``database`` for the database
servers. ``make test-fast`` runs the rest (``pytest -m "not spark and not s3 and not database"``).
``make test`` runs on two xdist workers; the tests sharing an expensive session fixture (the
end-to-end lakehouse, the database servers) are grouped on one worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.layout import Lakehouse
    from medallion.spec import Domain

# Spark hands timestamps to Python in the process's local zone: make that UTC, as the session is.
os.environ["TZ"] = "UTC"
time.tzset()

#: The moto server fixtures (``moto_endpoint``, ``aws``, ``s3_spark``) for any test that needs AWS;
#: the end-to-end lakehouse (``pipeline_run``); the database servers (``postgres_url``,
#: ``mariadb_url``).
pytest_plugins = ("tests.e2e.moto", "tests.pipeline", "tests.databases")

#: Marker -> fixtures that mean a test needs it (directly or through another fixture).
NEEDS: dict[str, frozenset[str]] = {
    "spark": frozenset({"spark"}),
    "s3": frozenset({"moto_endpoint"}),
    "database": frozenset({"postgres_url", "mariadb_url"}),
}


def needs(fixtures: set[str] | list[str]) -> set[str]:
    """The markers a test using ``fixtures`` (the whole closure) must carry."""
    return {marker for marker, names in NEEDS.items() if names & set(fixtures)}


#: Session fixture -> the xdist group of the tests that use it. Under ``pytest -n N --dist
#: loadgroup`` (``make test``) a group runs on one worker, so each expensive fixture is built
#: once: the session ones named here, and a module's own (every other test is grouped by module).
GROUPS: dict[str, str] = {
    "pipeline_run": "pipeline",
    "postgres_url": "databases",
    "mariadb_url": "databases",
}


def group_of(fixtures: set[str] | list[str], module: str) -> str:
    """The worker group of a test of ``module`` using ``fixtures``."""
    return next((GROUPS[f] for f in fixtures if f in GROUPS), module)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", [])
        for marker in needs(fixtures):
            item.add_marker(marker)
        module = item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group_of(fixtures, module)))


#: The test session evaluates expressions interpreted, without generated code: the tests run
#: thousands of small distinct queries, for which compiling each one's Java code costs more
#: than it saves (a tenth of the suite's time on two cores). The results are the same;
#: the processes the tests start (``medallion`` commands, the Glue entry script, the
#: notebook) keep Spark's defaults, so generated code is exercised there.
INTERPRETED = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


#: Spark's status store keeps fewer finished jobs, stages and queries (nobody looks at them).
STATUS_RETAINED = {
    "spark.ui.retainedJobs": "50",
    "spark.ui.retainedStages": "50",
    "spark.ui.retainedTasks": "1000",
    "spark.sql.ui.retainedExecutions": "20",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The session every Spark test shares: local[2], two shuffle partitions, UI off,
    expressions interpreted (:data:`INTERPRETED`), a small status store
    (:data:`STATUS_RETAINED`); its JVM is the product's local one
    (:data:`medallion.session.LOCAL_JVM_OPTIONS`: late C2 compilation, the parallel collector;
    the suite on two workers spent 715 s of JVM CPU with the JVM's defaults, 603 s with these).

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
            **INTERPRETED,
            **STATUS_RETAINED,
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
