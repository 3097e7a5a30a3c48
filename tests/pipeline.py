"""The end-to-end lakehouse fixture: generated demo data taken through every layer, twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from medallion.layout import Lakehouse
    from medallion.pipeline import RunReport
    from medallion.spec import Domain

#: Size of the generated demo data in the end-to-end tests (about 10k sales_items rows).
PIPELINE_SCALE = 0.01
#: At this scale each table gets only a few dozen changes per batch, so the injected bad rows
#: are a larger share than the default limit allows.
PIPELINE_MAX_BAD_RATIO = 0.5


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


def naive_utc(value: Any) -> Any:
    """Spark returns timestamps as naive datetimes in the session zone (UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def expected_silver() -> dict[str, list[dict[str, Any]]]:
    """Silver as the source database holds it after the fixture's batches (the generator's own
    record of the states it produced), timestamps as Spark returns them."""
    from medallion.generate import expected_states
    from tests.demo import load_demo

    states = expected_states(domain=load_demo(), scale=PIPELINE_SCALE, through_batch=3)
    return {
        name: [{k: naive_utc(v) for k, v in row.items()} for row in table.to_pylist()]
        for name, table in states.items()
    }
