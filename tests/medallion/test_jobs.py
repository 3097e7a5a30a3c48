"""The Glue entry point: Glue-style arguments, the layer code, the catalog, the exit code."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

import medallion.maintain
from medallion.jobs import entry
from medallion.jobs.entry import Action, JobOptions, parse_args, run_job
from medallion.layout import LAYERS, Lakehouse, Layer
from tests.demo import load_demo
from tests.e2e.moto import Aws
from tests.medallion.landing_files import employee, product, write_csv, write_parquet
from tests.processes import spark_process_env

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "medallion" / "jobs" / "glue_entry.py"
#: What Glue itself adds to every run's arguments; the entry point must ignore it.
GLUE_INTERNAL = [
    "--JOB_ID",
    "j_0123",
    "--JOB_RUN_ID",
    "jr_0123",
    "--job-bookmark-option",
    "job-bookmark-disable",
    "--TempDir",
    "s3://aws-glue-temporary/",
    "--enable-glue-datacatalog",
    "true",
]


def job_argv(lake: Lakehouse, layer: str, *extra: str) -> list[str]:
    return [
        str(SCRIPT),
        "--JOB_NAME",
        f"medallion-{layer}",
        *GLUE_INTERNAL,
        "--layer",
        layer,
        "--landing-root",
        lake.landing,
        "--bronze-root",
        lake.bronze,
        "--silver-root",
        lake.silver,
        "--gold-root",
        lake.gold,
        *extra,
    ]


def test_glue_arguments_are_parsed_with_glue_names() -> None:
    lake = Lakehouse.of(
        landing="s3://b/landing", bronze="s3a://b/tables", silver="s3://s/tables", gold="/g"
    )
    options = parse_args(
        job_argv(lake, "silver", "--silver-database", "silver_db", "--max-bad-ratio", "0.05")
    )
    assert options == JobOptions(
        job_name="medallion-silver",
        layers=(Layer.SILVER,),
        lakehouse=Lakehouse("s3://b/landing", "s3://b/tables", "s3://s/tables", "/g"),
        action=Action.RUN,
        databases={Layer.SILVER: "silver_db"},
        retention_hours=None,
        max_bad_ratio=0.05,
    )
    assert options.step == "silver"
    assert parse_args(job_argv(lake, "maintain", "--retention-hours", "336")).retention_hours == 336


def test_maintain_action_keeps_to_the_layer_and_layer_maintain_means_all() -> None:
    lake = Lakehouse.at("/l")
    own = parse_args(job_argv(lake, "gold", "--action", "maintain"))
    assert (own.action, own.layers, own.step) == (Action.MAINTAIN, (Layer.GOLD,), "maintain gold")
    legacy = parse_args(job_argv(lake, "maintain"))
    assert (legacy.action, legacy.layers, legacy.step) == (Action.MAINTAIN, LAYERS, "maintain")
    assert parse_args(job_argv(lake, "bronze", "--action", "run")).action is Action.RUN


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x.py", "--JOB_NAME", "j", "--layer", "bronze"], "--landing-root"),
        (job_argv(Lakehouse.at("/l"), "platinum"), "--layer must be one of"),
        (job_argv(Lakehouse.at("/l"), "maintain", "--retention-hours", "a week"), "number"),
        (job_argv(Lakehouse.at("/l"), "gold", "--action", "optimize"), "--action must be one of"),
    ],
)
def test_bad_arguments_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_args(argv)


def test_on_glue_the_arguments_go_through_get_resolved_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []

    def get_resolved_options(argv: list[str], options: list[str]) -> dict[str, str]:
        calls.append(list(options))
        return entry._resolve_locally(argv, options)

    awsglue = types.ModuleType("awsglue")
    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "awsglue", awsglue)
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)

    options = parse_args(job_argv(Lakehouse.at("/l"), "gold", "--gold-database", "gold_db"))
    # Optional arguments are only asked for when given: getResolvedOptions requires each one.
    assert calls == [[*entry.REQUIRED, "gold-database"]]
    assert options.databases == {Layer.GOLD: "gold_db"}


def test_maintain_step_calls_maintain_with_the_retention(
    spark: SparkSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, object] = {}

    def fake_maintain(spark, lakehouse, *, retention_hours, layers):
        seen.update(lakehouse=lakehouse, retention_hours=retention_hours, layers=layers)
        return []

    monkeypatch.setattr(medallion.maintain, "maintain", fake_maintain)
    lake = Lakehouse.at("/l")
    report = run_job(spark, parse_args(job_argv(lake, "maintain", "--retention-hours", "200")))
    assert report.ok
    assert seen == {"lakehouse": lake, "retention_hours": 200.0, "layers": list(LAYERS)}
    report = run_job(spark, parse_args(job_argv(lake, "silver", "--action", "maintain")))
    assert report.ok and report.step == "maintain silver"
    assert seen == {"lakehouse": lake, "retention_hours": 168, "layers": [Layer.SILVER]}


def land(lake: Lakehouse) -> None:
    write_parquet(lake, "products", "LOAD00000001.parquet", [product(1), product(2)])
    write_csv(lake, "employees", "LOAD00000001.csv", [employee(1), employee(2), employee(3)])


def test_glue_entry_script_runs_bronze_and_registers_it(
    spark: SparkSession, aws: Aws, tmp_path: Path
) -> None:
    """The uploaded script, run as Glue runs it: a new process with Glue-style arguments."""
    lake = Lakehouse.at(str(tmp_path / "lake"))
    land(lake)
    argv = job_argv(lake, "bronze", "--bronze-database", "bronze_db")
    env = spark_process_env(aws.environ)
    done = subprocess.run(
        [sys.executable, *argv], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "bronze finished" in done.stdout

    counts = {
        table: spark.read.format("delta").load(lake.table_path("bronze", table)).count()
        for table in ("products", "employees")
    }
    assert counts == {"products": 2, "employees": 3}
    tables = aws.glue.get_tables(DatabaseName="bronze_db")["TableList"]
    assert {t["Name"]: t["StorageDescriptor"]["Location"] for t in tables} == {
        "products": lake.table_path("bronze", "products"),
        "employees": lake.table_path("bronze", "employees"),
    }
    assert all(t["Parameters"]["table_type"] == "DELTA" for t in tables)


def test_a_failed_table_makes_the_job_exit_non_zero(spark: SparkSession, tmp_path: Path) -> None:
    lake = Lakehouse.at(str(tmp_path / "lake"))
    land(lake)
    broken = Path(lake.landing_dir(load_demo().table("products"))) / "LOAD00000002.parquet"
    broken.write_bytes(b"not parquet")

    with pytest.raises(SystemExit) as exited:
        entry.main(job_argv(lake, "bronze"))
    assert "1 table(s) failed: bronze.products" in str(exited.value.code)
    # The other table still ran.
    assert spark.read.format("delta").load(lake.table_path("bronze", "employees")).count() == 3
