"""Glue jobs, their arguments, the schedule, alerting and the catalog tables."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from stackrun import (
    EVENT_RULE,
    EVENT_TARGET,
    JOB,
    LOG_GROUP,
    OBJECT,
    ROOT,
    TABLE,
    TOPIC,
    TOPIC_POLICY,
    TRIGGER,
    WORKFLOW,
    StackRun,
)

from infra import catalog
from infra.config import StackConfig
from infra.schedule import MAINTAIN_ACTION
from medallion.spec import contract, load_domain

#: The demo domain, as the stacks' default config (``medallion:domain: domain``) reads it.
DOMAIN = load_domain(ROOT / "domain")
LAYERS = ("bronze", "silver", "gold")
ROOT_ARGS = ("--landing-root", "--bronze-root", "--silver-root", "--gold-root")
DATABASE_ARGS = ("--bronze-database", "--silver-database", "--gold-database")


def test_jobs_run_glue_5_1_with_delta(stack: StackRun, configs: dict[str, StackConfig]) -> None:
    sizing = configs[stack.stack].jobs
    jobs = stack.of_type(JOB)
    assert sorted(j["name"] for j in jobs) == sorted(stack.job_names.values())
    for job in jobs:
        args = job["defaultArguments"]
        assert job["glueVersion"] == "5.1"
        assert job["command"]["name"] == "glueetl"
        assert args["--datalake-formats"] == "delta"
        assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in args["--conf"]
        assert (
            "--conf spark.sql.catalog.spark_catalog="
            "org.apache.spark.sql.delta.catalog.DeltaCatalog" in args["--conf"]
        )
        assert args["--enable-auto-scaling"] == "true"
        assert args["--enable-metrics"] == "true"
        assert args["--enable-continuous-cloudwatch-log"] == "true"
        assert job["executionProperty"]["maxConcurrentRuns"] == 1
        assert job["timeout"] == sizing.timeout_minutes
        assert job["workerType"] == sizing.worker_type
        assert job["numberOfWorkers"] == sizing.number_of_workers
        assert job["executionClass"] == sizing.execution_class


def test_jobs_reference_the_uploaded_objects_by_content_hash(stack: StackRun) -> None:
    """The wheel and the script are uploaded under the wheel's SHA-256; the jobs use them."""
    artifacts = stack.bucket_names["artifacts"]
    objects = {o["key"]: o for o in stack.of_type(OBJECT)}
    (wheel_key,) = [k for k in objects if k.endswith(".whl")]
    (script_key,) = [k for k in objects if k.endswith("/glue_entry.py")]
    wheel_bytes = Path(objects[wheel_key]["source"]["__asset"]).read_bytes()
    digest = hashlib.sha256(wheel_bytes).hexdigest()
    assert wheel_key == f"artifacts/medallion/{digest}/medallion-0.1.0-py3-none-any.whl"
    assert script_key == f"artifacts/medallion/{digest}/glue_entry.py"
    assert objects[script_key]["source"]["__asset"] == str(ROOT / "medallion/jobs/glue_entry.py")
    assert stack.exports["wheelUri"] == f"s3://{artifacts}/{wheel_key}"
    for job in stack.of_type(JOB):
        assert (
            job["defaultArguments"]["--additional-python-modules"]
            == f"s3://{artifacts}/{wheel_key}"
        )
        assert job["command"]["scriptLocation"] == f"s3://{artifacts}/{script_key}"


def test_layer_jobs_use_the_catalog(stack: StackRun) -> None:
    for layer in LAYERS:
        assert stack.job(layer)["defaultArguments"]["--enable-glue-datacatalog"] == "true"


def test_job_arguments_follow_the_entry_point_contract(
    stack: StackRun, configs: dict[str, StackConfig]
) -> None:
    config = configs[stack.stack]
    buckets, databases = stack.bucket_names, stack.exports["databaseNames"]
    for layer in LAYERS:
        args = stack.job(layer)["defaultArguments"]
        assert args["--layer"] == layer
        assert args["--domain-root"] == stack.exports["domainUri"]
        assert args["--landing-root"] == f"s3://{buckets['bronze']}/landing"
        for root in LAYERS:
            assert args[f"--{root}-root"] == f"s3://{buckets[root]}/tables"
            assert args[f"--{root}-database"] == databases[root]
        # Maintenance options come with the weekly trigger's run, never as a default.
        assert "--action" not in args and "--retention-hours" not in args
        assert ("--max-bad-ratio" in args) == (
            layer == "silver" and config.jobs.max_bad_ratio is not None
        )


def test_entry_point_parses_the_arguments_infra_passes(stack: StackRun) -> None:
    """The exact default arguments of each job, fed to the package's own parser."""
    from medallion.jobs.entry import parse_args

    for layer in LAYERS:
        args = stack.job(layer)["defaultArguments"]
        argv = ["glue_entry.py", "--JOB_NAME", stack.job_names[layer]]
        for key, value in args.items():
            argv += [key, value]
        options = parse_args(argv, resolver=None)
        assert options.step == layer
        assert options.lakehouse.bronze == args["--bronze-root"]
        assert options.domain_root == args["--domain-root"]


def test_each_job_logs_to_its_own_encrypted_groups(stack: StackRun) -> None:
    groups = {g["name"] for g in stack.of_type(LOG_GROUP)}
    for layer, name in stack.job_names.items():
        prefix = stack.job(layer)["defaultArguments"]["--custom-logGroup-prefix"]
        assert prefix == f"/aws-glue/{name}"
        assert {f"{prefix}/error", f"{prefix}/output"} <= groups


def test_trigger_order_schedule_then_bronze_silver_gold(
    stack: StackRun, configs: dict[str, StackConfig]
) -> None:
    config = configs[stack.stack]
    workflow = stack.exports["workflowName"]
    triggers = [t for t in stack.of_type(TRIGGER) if t["workflowName"] == workflow]
    jobs = stack.job_names
    (start,) = [t for t in triggers if t["type"] == "SCHEDULED"]
    assert start["schedule"] == config.schedule.expression
    assert start["enabled"] is config.schedule.enabled
    assert [a["jobName"] for a in start["actions"]] == [jobs["bronze"]]
    after = {}
    for trigger in (t for t in triggers if t["type"] == "CONDITIONAL"):
        (condition,) = trigger["predicate"]["conditions"]
        assert condition["state"] == "SUCCEEDED"
        assert condition["logicalOperator"] == "EQUALS"
        (action,) = trigger["actions"]
        after[condition["jobName"]] = action["jobName"]
    chain = [jobs["bronze"]]
    while chain[-1] in after:
        chain.append(after[chain[-1]])
    assert chain == [jobs["bronze"], jobs["silver"], jobs["gold"]]
    assert len(triggers) == 3


def test_maintenance_runs_weekly_in_its_own_workflow(
    stack: StackRun, configs: dict[str, StackConfig]
) -> None:
    config = configs[stack.stack]
    name = stack.exports["maintenanceWorkflowName"]
    assert name != stack.exports["workflowName"]
    assert {w["name"] for w in stack.of_type(WORKFLOW)} == {name, stack.exports["workflowName"]}
    (trigger,) = [t for t in stack.of_type(TRIGGER) if t["workflowName"] == name]
    assert trigger["type"] == "SCHEDULED"
    assert trigger["schedule"] == config.schedule.maintenance_expression
    assert trigger["enabled"] is config.schedule.enabled


def test_maintenance_runs_each_layer_job_with_the_maintain_action(
    stack: StackRun, configs: dict[str, StackConfig]
) -> None:
    """No job of its own: the weekly trigger starts every layer's job (under that layer's role)
    with ``--action maintain`` and the stack's VACUUM retention for that run."""
    config = configs[stack.stack]
    name = stack.exports["maintenanceWorkflowName"]
    (trigger,) = [t for t in stack.of_type(TRIGGER) if t["workflowName"] == name]
    started = {action["jobName"]: action.get("arguments") for action in trigger["actions"]}
    assert sorted(started) == sorted(stack.job_names[layer] for layer in LAYERS)
    assert set(stack.job_names) == set(LAYERS)
    for arguments in started.values():
        assert arguments == {
            "--action": MAINTAIN_ACTION,
            "--retention-hours": str(config.schedule.retention_hours),
        }
    assert config.schedule.retention_hours >= contract.SAFE_RETENTION_HOURS


def test_entry_point_reads_a_maintenance_run_as_maintenance(stack: StackRun) -> None:
    """A maintenance run's arguments (the job's defaults, then the trigger's) parse as the
    layer's maintenance, not as an ordinary run of the layer."""
    from medallion.jobs.entry import parse_args

    name = stack.exports["maintenanceWorkflowName"]
    (trigger,) = [t for t in stack.of_type(TRIGGER) if t["workflowName"] == name]
    for action in trigger["actions"]:
        (layer,) = [k for k, v in stack.job_names.items() if v == action["jobName"]]
        run = {**stack.job(layer)["defaultArguments"], **action["arguments"]}
        argv = ["glue_entry.py", "--JOB_NAME", action["jobName"]]
        for key, value in run.items():
            argv += [key, value]
        options = parse_args(argv, resolver=None)
        assert options.layers == (layer,)
        assert options.action == MAINTAIN_ACTION
        assert options.retention_hours == float(run["--retention-hours"])


def test_failed_runs_of_every_job_reach_the_alert_topic(stack: StackRun) -> None:
    rule = stack.one(EVENT_RULE)
    pattern = json.loads(rule["eventPattern"])
    assert pattern["source"] == ["aws.glue"]
    assert pattern["detail-type"] == ["Glue Job State Change"]
    assert sorted(pattern["detail"]["jobName"]) == sorted(stack.job_names.values())
    assert {"FAILED", "TIMEOUT"} <= set(pattern["detail"]["state"])
    topic = stack.one(TOPIC)
    target = stack.one(EVENT_TARGET)
    assert target["arn"] == topic.outputs["arn"] == stack.exports["alertTopicArn"]
    assert target["rule"] == rule.outputs["name"]
    (statement,) = json.loads(stack.one(TOPIC_POLICY)["policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule.outputs["arn"]}}


# --- catalog ----------------------------------------------------------------------------------


def expected_tables() -> dict[str, set[str]]:
    return {
        "bronze": {t.name for t in DOMAIN.tables},
        "silver": {n for t in DOMAIN.tables for n in (t.name, t.quarantine_name)},
        "gold": {m.name for m in DOMAIN.gold_models},
    }


def test_every_declared_table_is_a_native_delta_table(stack: StackRun) -> None:
    databases = stack.exports["databaseNames"]
    tables = stack.of_type(TABLE)
    assert len(tables) == sum(len(names) for names in expected_tables().values()) == 25
    for layer, names in expected_tables().items():
        registered = [t for t in tables if t["databaseName"] == databases[layer]]
        assert {t["name"] for t in registered} == names, layer
        for table in registered:
            location = f"s3://{stack.bucket_names[layer]}/tables/{table['name']}"
            assert table["tableType"] == "EXTERNAL_TABLE"
            assert table["parameters"]["table_type"] == "DELTA"
            assert table["storageDescriptor"]["location"] == location
            assert table["storageDescriptor"]["serDeInfo"]["parameters"]["path"] == location


def test_catalog_columns_follow_the_declarations(stack: StackRun) -> None:
    databases = stack.exports["databaseNames"]

    def columns(layer: str, name: str) -> list[tuple[str, str]]:
        (table,) = [
            t for t in stack.of_type(TABLE)
            if t["databaseName"] == databases[layer] and t["name"] == name
        ]  # fmt: skip
        described = table["storageDescriptor"]["columns"] + (table.get("partitionKeys") or [])
        return [(c["name"], c["type"]) for c in described]

    clients = DOMAIN.table("clients")
    bronze = dict(columns("bronze", "clients"))
    assert all(bronze[c] == "string" for c in clients.column_names)
    assert bronze["_commit_ts"] == "timestamp" and bronze["_row"] == "bigint"
    assert columns("silver", "products") == [
        (c.name, c.type) for c in DOMAIN.table("products").columns
    ]
    quarantine = dict(columns("silver", "clients_quarantine"))
    assert {"_rule", "_reason", "_file_key", "email"} <= set(quarantine)
    daily = DOMAIN.gold_model("sales_daily")
    assert sorted(columns("gold", "sales_daily")) == sorted((c.name, c.type) for c in daily.columns)


def test_gold_partition_columns_are_partition_keys(stack: StackRun) -> None:
    for table in stack.of_type(TABLE):
        if table["name"] == "avg_salary_by_age":
            keys = [k["name"] for k in table["partitionKeys"]]
            assert keys == ["year", "month"]
            assert not {"year", "month"} & {
                c["name"] for c in table["storageDescriptor"]["columns"]
            }


def test_catalog_entries_follow_the_shared_contract(stack: StackRun) -> None:
    """Every entry the stack declares is a native Delta table as ``medallion.spec.contract``
    defines it, the definition the jobs register with."""
    for table in stack.of_type(TABLE):
        descriptor = table["storageDescriptor"]
        assert table["tableType"] == contract.TABLE_TYPE, table["name"]
        assert table["parameters"] == contract.DELTA_PARAMETERS, table["name"]
        assert descriptor["inputFormat"] == contract.PARQUET_INPUT_FORMAT, table["name"]
        assert descriptor["outputFormat"] == contract.PARQUET_OUTPUT_FORMAT, table["name"]
        assert descriptor["serDeInfo"]["serializationLibrary"] == contract.PARQUET_SERDE, table[
            "name"
        ]


def test_catalog_entries_match_what_the_jobs_register() -> None:
    """The stack declares tables exactly as ``medallion.catalog`` writes them after a run."""
    jobs = pytest.importorskip("medallion.catalog")
    assert jobs.DELTA_PARAMETERS == contract.DELTA_PARAMETERS
    assert jobs.TABLE_TYPE == contract.TABLE_TYPE
    assert jobs.PARQUET_FORMAT == {
        "InputFormat": contract.PARQUET_INPUT_FORMAT,
        "OutputFormat": contract.PARQUET_OUTPUT_FORMAT,
        "SerializationLibrary": contract.PARQUET_SERDE,
    }
    for layer, specs in (
        ("bronze", catalog.bronze_tables(DOMAIN)),
        ("silver", catalog.silver_tables(DOMAIN)),
        ("gold", catalog.gold_tables(DOMAIN)),
    ):
        assert [name for name, _ in jobs.layer_tables(DOMAIN, layer)] == [s.name for s in specs]
