"""End to end on local disk: generated landing files -> bronze -> silver -> gold, checked against
independent references (the simulator's own source state, a plain-Python replay of the landing
files, and a plain-Python gold)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from delta.tables import DeltaTable
from pyspark.sql import SparkSession

from medallion.gold import run_gold
from medallion.layout import Layer
from medallion.pipeline import run
from medallion.read import read_table
from tests.demo import load_demo
from tests.medallion.silver_support import quarantined, silver_rows, silver_sources
from tests.pipeline import PIPELINE_MAX_BAD_RATIO, PipelineRun, expected_silver
from tests.processes import spark_process_env
from tests.reference import gold_reference
from tests.reference.landing import read_landing
from tests.reference.silver import expected_silver as reference_silver


def rows(spark: SparkSession, run_: PipelineRun, name: str, columns: tuple[str, ...]) -> list:
    df = read_table(spark, name, run_.lakehouse).select(*columns)
    return sorted((tuple(r) for r in df.collect()), key=gold_reference.sort_key)


def test_every_table_succeeds_in_both_runs(pipeline_run: PipelineRun) -> None:
    for report in (pipeline_run.first, pipeline_run.second):
        assert report.ok, [(r.layer, r.table, r.messages) for r in report.failures()]
    assert {(r.layer, r.table) for r in pipeline_run.second.results} >= {
        ("gold", m.name) for m in load_demo().gold_models
    }


def test_the_report_times_each_layer(pipeline_run: PipelineRun) -> None:
    for report in (pipeline_run.first, pipeline_run.second):
        assert list(report.layer_seconds) == ["bronze", "silver", "gold"]
        assert all(seconds > 0 for seconds in report.layer_seconds.values())
        assert sum(report.layer_seconds.values()) <= report.seconds


def test_silver_equals_the_source_database(spark: SparkSession, pipeline_run: PipelineRun) -> None:
    """Every anomaly included: late, stale, re-delivered, deleted and re-inserted changes."""
    expected = expected_silver()
    for table in load_demo().tables:
        want = sorted(
            (tuple(r[c] for c in table.column_names) for r in expected[table.name]),
            key=gold_reference.sort_key,
        )
        got = rows(spark, pipeline_run, f"silver.{table.name}", table.column_names)
        assert got == want, f"silver.{table.name} differs from the source state"


@pytest.mark.parametrize("table", [t.name for t in load_demo().tables])
def test_silver_equals_the_reference_from_the_landing_files(
    spark: SparkSession, pipeline_run: PipelineRun, table: str
) -> None:
    """Silver, its lineage and its quarantine equal a plain-Python replay of the landing files
    (the contract's rules applied to what DMS delivered, not to the simulator's state)."""
    spec = load_demo().table(table)
    changes = read_landing(pipeline_run.lakehouse.landing_dir(spec), spec)
    expected = reference_silver(spec, changes.changes)
    assert silver_rows(spark, pipeline_run.lakehouse, spec) == expected.rows(spec.column_names)
    assert silver_sources(spark, pipeline_run.lakehouse, spec) == expected.source
    assert quarantined(spark, pipeline_run.lakehouse, spec) == expected.quarantine


def test_new_upstream_columns_are_reported_not_fatal(pipeline_run: PipelineRun) -> None:
    results = [*pipeline_run.first.results, *pipeline_run.second.results]
    drift = {(r.layer, r.table) for r in results for m in r.messages if "undeclared" in m}
    assert drift, "the generator adds new upstream columns; silver must report them"
    assert not any(r.failed for r in results)


def test_every_injected_bad_row_is_quarantined_with_its_rule(
    spark: SparkSession, pipeline_run: PipelineRun
) -> None:
    manifest = json.loads(
        (Path(pipeline_run.lakehouse.landing) / "_generator" / "manifest.json").read_text()
    )
    injected: dict[str, set[tuple[str, int, str]]] = {t.name: set() for t in load_demo().tables}
    for batch in manifest["batches"].values():
        for anomaly in batch["anomalies"]:
            if anomaly["rule"]:
                injected[anomaly["table"]].add((anomaly["file"], anomaly["row"], anomaly["rule"]))
    assert sum(len(v) for v in injected.values()) >= 20
    for table in load_demo().tables:
        quarantine = read_table(spark, f"silver.{table.quarantine_name}", pipeline_run.lakehouse)
        found = {(r["_file_key"], r["_row"], r["_rule"]) for r in quarantine.collect()}
        assert found == injected[table.name], f"silver.{table.quarantine_name}"


def test_gold_equals_a_plain_python_recompute(
    spark: SparkSession, pipeline_run: PipelineRun
) -> None:
    silver = expected_silver()
    for model in load_demo().gold_models:
        got = rows(spark, pipeline_run, f"gold.{model.name}", model.column_names)
        assert got, f"gold.{model.name} is empty"
        assert got == gold_reference.mart(model.name, silver), f"gold.{model.name}"


def test_incremental_gold_equals_a_full_recompute(
    spark: SparkSession, pipeline_run: PipelineRun, tmp_path: Path
) -> None:
    fresh = replace(pipeline_run.lakehouse, gold=str(tmp_path / "gold"))
    assert all(r.status != "failed" for r in run_gold(spark, fresh, load_demo()))
    for model in load_demo().gold_models:
        incremental = read_table(spark, f"gold.{model.name}", pipeline_run.lakehouse)
        full = read_table(spark, f"gold.{model.name}", fresh).select(*incremental.columns)
        assert incremental.exceptAll(full).count() == 0 == full.exceptAll(incremental).count()


def test_a_rerun_of_all_layers_writes_nothing(
    spark: SparkSession, pipeline_run: PipelineRun
) -> None:
    lakehouse = pipeline_run.lakehouse
    paths = [lakehouse.table_path(Layer.BRONZE, t.name) for t in load_demo().tables]
    paths += [lakehouse.table_path(Layer.SILVER, t.name) for t in load_demo().tables]
    paths += [lakehouse.table_path(Layer.SILVER, t.quarantine_name) for t in load_demo().tables]
    paths += [lakehouse.table_path(Layer.GOLD, m.name) for m in load_demo().gold_models]

    assert all(DeltaTable.isDeltaTable(spark, p) for p in paths)

    def versions() -> dict[str, int]:
        return {p: DeltaTable.forPath(spark, p).history(1).first()["version"] for p in paths}

    before = versions()
    report = run(spark, lakehouse, load_demo(), max_bad_ratio=PIPELINE_MAX_BAD_RATIO)
    assert report.ok
    assert versions() == before
    assert all(r.rows_out == 0 and r.quarantined == 0 for r in report.results)


@pytest.mark.timeout(300)
def test_example_notebook_runs(pipeline_run: PipelineRun) -> None:
    import nbformat
    from nbclient import NotebookClient

    path = Path(__file__).resolve().parents[2] / "examples" / "explore.ipynb"
    notebook = nbformat.read(path, as_version=4)
    env = spark_process_env()
    env["MEDALLION_LAKEHOUSE"] = str(Path(pipeline_run.lakehouse.landing).parent)
    NotebookClient(notebook, timeout=240, kernel_name="python3").execute(
        cwd=str(path.parent), env=env
    )
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "rows that differ from gold.sales_daily: 0" in outputs


def test_cli_status_and_show(pipeline_run: PipelineRun, capsys: pytest.CaptureFixture[str]) -> None:
    from medallion.cli import main

    root = str(Path(pipeline_run.lakehouse.landing).parent)
    assert main(["status", "--lakehouse", root]) == 0
    status = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[2:]}
    assert set(status) >= {"bronze.sales", "silver.sales", "gold.sales_daily"}
    assert int(status["silver.sales_items"][-1]) > 0, "quarantined rows are shown"

    assert main(["show", "gold.customer_value", "-n", "3", "--lakehouse", root]) == 0
    shown = capsys.readouterr().out
    assert "lifetime_net_revenue" in shown and "only showing top 3 rows" in shown
    assert main(["show", "platinum.sales", "--lakehouse", root]) == 2
    assert "<bronze|silver|gold>.<table>" in capsys.readouterr().err
