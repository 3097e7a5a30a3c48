"""End to end on S3: landing -> bronze -> silver -> gold through the Glue job code, on moto.

The lakehouse root is ``s3://<bucket>/lake`` (Spark through S3A and hadoop-aws, landing files
through pyarrow's S3 filesystem, the catalog through boto3), each step run by the job entry point's
:func:`~medallion.jobs.entry.run_job` as Glue runs it. The same landing files also go through the
local runner on local disk; every table must hold the same rows in both lakehouses. The jobs
load their declarations as on Glue: from the domain zip the stack uploads (``--domain-root``).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession

from medallion.catalog import DELTA_PARAMETERS, glue_type
from medallion.generate import generate
from medallion.jobs.entry import JobOptions, JobReport, run_job
from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.maintain import find_tables
from medallion.pipeline import RunReport, run
from medallion.spec import Domain
from tests.demo import DEMO_FOLDER, load_demo
from tests.e2e.moto import REGION, aws_environ, configure_s3a

pytestmark = [pytest.mark.s3, pytest.mark.spark]

#: A parquet and a CSV source, both with quarantined rows, and a partitioned mart: what differs
#: on S3 (the whole demo domain takes twice as long and adds no S3 path).
DECLARATIONS = ("tables/products.yaml", "tables/employees.yaml", "models/avg_salary_by_age.sql")
DEMO = Domain(
    tables=(load_demo().table("employees"), load_demo().table("products")),
    gold_models=(load_demo().gold_model("avg_salary_by_age"),),
)
SCALE = 0.001
#: Lineage that names where or when a row was read: it differs between two runs by design.
#: Columns that differ between two runs; the bronze file ledger's run id, file time (S3 keeps
#: milliseconds, a local disk nanoseconds) and write time among them (its keys, sizes, digests
#: and bronze versions are compared).
VOLATILE = (
    "_ingested_at",
    "_batch_id",
    "_source_file",
    "_quarantined_at",
    "batch_id",
    "modified_ns",
    "recorded_at",
)
DATABASES = {layer: f"e2e_{layer.value}" for layer in LAYERS}


@dataclass
class Runs:
    remote: Lakehouse
    local: Lakehouse
    bucket: str
    glue: object
    reports: list[JobReport]
    local_report: RunReport
    s3_seconds: float
    local_seconds: float


@pytest.fixture(scope="module")
def runs(
    spark: SparkSession, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runs]:
    import boto3

    with pytest.MonkeyPatch.context() as patch:
        for key, value in aws_environ(moto_endpoint).items():
            patch.setenv(key, value)
        bucket = f"e2e-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=bucket)
        glue = boto3.client("glue", region_name=REGION)
        configure_s3a(spark, moto_endpoint, bucket)

        remote = Lakehouse.at(f"s3://{bucket}/lake")
        local = Lakehouse.at(str(tmp_path_factory.mktemp("e2e") / "lake"))
        for lake in (remote, local):
            generate(lake, scale=SCALE, batches=[0, 1], domain=DEMO)

        domain_root = upload_domain(tmp_path_factory.mktemp("domain"), bucket)
        started = time.monotonic()
        reports = [
            run_job(  # no domain given: the job loads it from domain_root, as on Glue
                spark,
                JobOptions(
                    job_name="e2e",
                    layers=(layer,),
                    lakehouse=remote,
                    databases=DATABASES,
                    domain_root=domain_root,
                ),
                glue=glue,
            )
            for layer in LAYERS
        ]
        s3_seconds = time.monotonic() - started
        started = time.monotonic()
        local_report = run(spark, local, DEMO)
        local_seconds = time.monotonic() - started
        print(f"\nS3 run {s3_seconds:.1f}s, local run {local_seconds:.1f}s")
        yield Runs(remote, local, bucket, glue, reports, local_report, s3_seconds, local_seconds)


def upload_domain(folder: Path, bucket: str) -> str:
    """Zip part of the demo domain as the stack does, upload it, return its ``s3://`` URI."""
    import boto3

    from infra.domain import archive_bytes

    for name in DECLARATIONS:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEMO_FOLDER / name, folder / name)
    key = "artifacts/medallion/0123abcd/domain.zip"
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=bucket, Key=key, Body=archive_bytes(folder))
    return f"s3://{bucket}/{key}"


def test_every_step_succeeds_on_s3(runs: Runs) -> None:
    assert [r.step for r in runs.reports] == ["bronze", "silver", "gold"]
    for report in runs.reports:
        assert report.ok, [str(f) for f in report.failures]
    assert runs.local_report.ok
    # The declarations came from the uploaded zip (the repository's domain has 7 tables).
    assert sorted(r.table for r in runs.reports[0].results) == ["employees", "products"]
    gold = runs.reports[-1]
    assert [r.table for r in gold.results] == ["avg_salary_by_age"]


def comparable(df: DataFrame) -> list[tuple]:
    columns = sorted(c for c in df.columns if c not in VOLATILE)
    return sorted((tuple(row) for row in df.select(columns).collect()), key=repr)


@pytest.mark.parametrize("layer", LAYERS)
def test_s3_tables_equal_the_local_run(spark: SparkSession, runs: Runs, layer: Layer) -> None:
    names = find_tables(spark, runs.remote.layer_root(layer))
    assert names == find_tables(spark, runs.local.layer_root(layer))
    assert names  # the layer wrote something
    for name in names:
        remote = spark.read.format("delta").load(runs.remote.table_path(layer, name))
        local = spark.read.format("delta").load(runs.local.table_path(layer, name))
        assert remote.schema == local.schema, f"{layer}.{name}"
        assert comparable(remote) == comparable(local), f"{layer}.{name}"
    if layer is Layer.SILVER:  # the generated anomalies reached the quarantines
        assert {"products_quarantine", "employees_quarantine"} <= set(names)


def test_catalog_holds_every_table_as_native_delta(spark: SparkSession, runs: Runs) -> None:
    for layer, database in DATABASES.items():
        entries = {t["Name"]: t for t in runs.glue.get_tables(DatabaseName=database)["TableList"]}
        on_storage = [n for n in find_tables(spark, runs.remote.layer_root(layer)) if "/" not in n]
        assert sorted(entries) == sorted(n for n in on_storage if not n.startswith("_"))
        for name, entry in entries.items():
            path = runs.remote.table_path(layer, name)
            assert path.startswith(f"s3://{runs.bucket}/lake/{layer.value}/")
            assert entry["StorageDescriptor"]["Location"] == path
            assert entry["TableType"] == "EXTERNAL_TABLE"
            assert entry["Parameters"]["table_type"] == DELTA_PARAMETERS["table_type"]
            schema = spark.read.format("delta").load(path).schema
            listed = entry["StorageDescriptor"]["Columns"] + entry.get("PartitionKeys", [])
            assert sorted((c["Name"], c["Type"]) for c in listed) == sorted(
                (f.name.lower(), glue_type(f.dataType)) for f in schema.fields
            ), f"{database}.{name}"
    mart = runs.glue.get_table(DatabaseName="e2e_gold", Name="avg_salary_by_age")["Table"]
    assert [k["Name"] for k in mart["PartitionKeys"]] == ["year", "month"]


def test_the_tables_live_in_the_bucket(runs: Runs) -> None:
    import boto3

    s3 = boto3.client("s3", region_name=REGION)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=runs.bucket, Prefix="lake/")
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    assert "lake/bronze/products/_delta_log/00000000000000000000.json" in keys
    assert any(k.startswith("lake/silver/employees/part-") for k in keys)
    assert any(k.startswith("lake/gold/avg_salary_by_age/year=") for k in keys)
