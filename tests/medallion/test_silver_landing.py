"""Silver from generated landing files, through bronze, equals the plain-Python reference.

The generator injects every anomaly (changes twice in a file and across files, late changes,
stale changes after deletes, re-inserts, key-only deletes, rule violations, NULL keys, values
that do not cast, unknown operations, new upstream columns, re-delivered files). Two increments
(batches 0-1, then 2-3) go through bronze and silver; silver and its quarantine must equal the
reference computed from the landing files alone, and every bad row of the manifest must be
quarantined under its rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import SparkSession

from medallion.bronze import run_bronze
from medallion.generate import MANIFEST_PATH, generate
from medallion.layout import Lakehouse
from medallion.results import TableResult
from medallion.silver import run_silver
from medallion.spec import DOMAIN
from tests.medallion.silver_support import quarantined, read, silver_rows, silver_sources, version
from tests.reference.landing import read_landing
from tests.reference.silver import expected_silver

SCALE = 0.002
#: At this tiny scale a few bad rows are a large share of a table's batch.
MAX_BAD_RATIO = 0.25


@dataclass
class Landed:
    lakehouse: Lakehouse
    first: list[TableResult]
    second: list[TableResult]
    rerun: list[TableResult]
    versions: dict[str, tuple[int, int]]


@pytest.fixture(scope="module")
def landed(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Landed:
    lakehouse = Lakehouse.at(str(tmp_path_factory.mktemp("landing") / "lake"))
    results = []
    for batches in ([0, 1], [2, 3]):
        generate(lakehouse, scale=SCALE, batches=batches)
        run_bronze(spark, lakehouse, DOMAIN)
        results.append(run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=MAX_BAD_RATIO))
    before = {t.name: version(spark, lakehouse.table_path("silver", t.name)) for t in DOMAIN.tables}
    run_bronze(spark, lakehouse, DOMAIN)
    rerun = run_silver(spark, lakehouse, DOMAIN, max_bad_ratio=MAX_BAD_RATIO)
    after = {t.name: version(spark, lakehouse.table_path("silver", t.name)) for t in DOMAIN.tables}
    versions = {name: (before[name], after[name]) for name in before}
    return Landed(lakehouse, results[0], results[1], rerun, versions)


def test_every_table_succeeds_in_both_increments(landed: Landed) -> None:
    for result in [*landed.first, *landed.second]:
        assert not result.failed, result.messages


@pytest.mark.parametrize("table", [t.name for t in DOMAIN.tables])
def test_silver_equals_the_reference_anomalies_included(
    spark: SparkSession, landed: Landed, table: str
) -> None:
    spec = DOMAIN.table(table)
    changes = read_landing(landed.lakehouse.landing_dir(spec), spec)
    expected = expected_silver(spec, changes.changes)
    assert silver_rows(spark, landed.lakehouse, spec) == expected.rows(spec.column_names)
    assert silver_sources(spark, landed.lakehouse, spec) == expected.source
    assert quarantined(spark, landed.lakehouse, spec) == expected.quarantine


def test_every_injected_bad_row_is_quarantined_under_its_rule(
    spark: SparkSession, landed: Landed
) -> None:
    manifest = json.loads(Path(landed.lakehouse.landing, MANIFEST_PATH).read_text())
    bad = [
        e
        for batch in manifest["batches"].values()
        for e in batch["anomalies"]
        if e["rule"] is not None
    ]
    assert {e["kind"] for e in bad} >= {"rule_violation", "null_key", "uncastable", "bad_op"}
    found: dict[str, dict[Any, Any]] = {
        t.name: quarantined(spark, landed.lakehouse, t) for t in DOMAIN.tables
    }
    missing = [
        e for e in bad if found[e["table"]].get((e["file"], e["row"]), (None,))[0] != e["rule"]
    ]
    assert missing == []


def test_new_upstream_columns_are_reported_not_fatal(landed: Landed) -> None:
    drift = [m for r in [*landed.first, *landed.second] for m in r.messages if "undeclared" in m]
    assert drift, "the generator adds new upstream columns; silver must report them"
    for result in [*landed.first, *landed.second]:
        assert not result.failed


def test_rerun_of_bronze_and_silver_writes_no_silver_version(
    spark: SparkSession, landed: Landed
) -> None:
    assert all(before == after for before, after in landed.versions.values()), landed.versions
    assert all(r.rows_in == 0 and not r.failed for r in landed.rerun)
    assert read(spark, landed.lakehouse, "clients").count() > 0
