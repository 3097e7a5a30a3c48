"""DMS replication of the sources, and runs started by landed files (issue 11).

The mocked stacks are the real dev and prod programs with a config overlay: a MySQL source
``retail`` and a PostgreSQL source ``hr`` (``medallion:sources``) and ``medallion:trigger:
events``. The overlay lives here, not in ``Pulumi.<stack>.yaml``, so that the real stacks never
need placeholder ARNs. The landing contract's values below are written out, not imported: a
change to a setting in ``infra/replication.py`` must fail a test (``break_replication.py``
breaks each one on purpose).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from stackrun import (
    EVENT_RULE,
    EVENT_TARGET,
    KMS_KEY,
    ROLE,
    ROLE_POLICY,
    STACKS,
    TOPIC_POLICY,
    TRIGGER,
    Resource,
    StackRun,
    actions,
    assert_parented_and_named,
    is_allowed,
    load_config,
    run_stacks,
    statements,
)

from infra import sources
from infra.config import MAX_BASE_NAME, ConfigError, MappingSource, StackConfig
from infra.replication import component_name, source_tables, table_mappings
from medallion.spec import Column, Domain, Table
from tests.demo import load_demo

ACCOUNT = "123456789012"
SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
SECURITY_GROUPS = ["sg-0a1b2c3d4e5f60001"]
RETAIL_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:medallion/retail-AbCdEf"
HR_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:medallion/hr-GhIjKl"
SOURCES: list[dict[str, Any]] = [
    {
        "name": "retail",
        "engine": "mysql",
        "database": "retail",
        "secretArn": RETAIL_SECRET,
        "subnetIds": SUBNETS,
        "securityGroupIds": SECURITY_GROUPS,
    },
    {
        "name": "hr",
        "engine": "postgres",
        "database": "people",
        "secretArn": HR_SECRET,
        "subnetIds": SUBNETS,
        "securityGroupIds": SECURITY_GROUPS,
        "capacity": {"min": 1, "max": 2},
    },
]
TRIGGER_OVERLAY = {"mode": "events", "batchSize": 50, "batchWindowSeconds": 300}
OVERLAY = {
    "medallion:sources": json.dumps(SOURCES),
    "medallion:trigger": json.dumps(TRIGGER_OVERLAY),
}

REPLICATION_CONFIG = "aws:dms/replicationConfig:ReplicationConfig"
SOURCE_ENDPOINT = "aws:dms/endpoint:Endpoint"
TARGET_ENDPOINT = "aws:dms/s3Endpoint:S3Endpoint"
SUBNET_GROUP = "aws:dms/replicationSubnetGroup:ReplicationSubnetGroup"
EVENT_SUBSCRIPTION = "aws:dms/eventSubscription:EventSubscription"
NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
REPLICATION = "medallion:index:SourceReplication"

#: The landing contract (docs/contract.md#landing) as DMS S3 target settings, spelled as the
#: provider does.
LANDING_CONTRACT: dict[str, Any] = {
    "dataFormat": "parquet",
    "parquetVersion": "parquet-2-0",
    "parquetTimestampInMillisecond": False,
    "includeOpForFullLoad": True,
    "timestampColumnName": "commit_ts",
    "useTaskStartTimeForFullLoadTimestamp": True,
    "datePartitionEnabled": True,
    "datePartitionSequence": "YYYYMMDD",
    "datePartitionDelimiter": "SLASH",
    "cdcInsertsAndUpdates": False,
    "cdcInsertsOnly": False,
    "preserveTransactions": False,
    "encryptionMode": "SSE_KMS",
    "bucketFolder": "landing",
}

#: The demo domain, as the stacks' default config (``medallion:domain: domain``) reads it.
DOMAIN = load_demo()


@pytest.fixture(scope="session")
def replicated() -> dict[str, StackRun]:
    """dev and prod with the two sources and the event trigger."""
    results = run_stacks(STACKS, OVERLAY)
    for stack, run in results.items():
        assert run.error is None, f"the {stack} program failed: {run.error}"
    return results


@pytest.fixture(params=STACKS)
def run(request: pytest.FixtureRequest, replicated: dict[str, StackRun]) -> StackRun:
    return replicated[request.param]


def component(run: StackRun, source: str) -> Resource:
    (found,) = [
        r
        for r in run.resources
        if r.type == REPLICATION and r.name == f"medallion-{run.stack}-dms-{source}"
    ]
    return found


def owned(run: StackRun, source: str, type_: str) -> Resource:
    """The one resource of ``type_`` inside the source's component."""
    parent = component(run, source).urn
    (found,) = [r for r in run.of_type(type_) if r.parent == parent]
    return found


def role_policy(run: StackRun, role: Resource) -> dict[str, Any]:
    (policy,) = [p for p in run.of_type(ROLE_POLICY) if p["role"] == role.outputs["name"]]
    return json.loads(policy["policy"])


def landing_bucket(run: StackRun) -> str:
    return run.bucket_names["bronze"]


def domain_with(tables: tuple[Table, ...]) -> Domain:
    return Domain(tables=tables)


def source_config(**changes: Any) -> sources.SourceConfig:
    entry = {**SOURCES[0], **changes}
    return sources.parse({"sources": [entry]}).sources[0]


# --- medallion:sources, medallion:replication, medallion:trigger --------------------------------


def test_sources_parse_with_their_defaults() -> None:
    parsed = sources.parse({"sources": json.dumps(SOURCES)})
    retail, hr = parsed.sources
    assert (retail.name, retail.dms_engine, retail.family) == ("retail", "mysql", "mysql")
    assert retail.schema == "retail"  # MySQL: the schema is the database
    assert (hr.dms_engine, hr.family, hr.schema) == ("postgres", "postgres", "public")
    assert retail.ssl_mode == "require"
    assert parsed.capacity(retail) == sources.Capacity(1, 4)
    assert parsed.capacity(hr) == sources.Capacity(1, 2)
    assert parsed.trigger == sources.TriggerConfig()
    assert not parsed.trigger.on_events


def test_aurora_mysql_is_dms_aurora() -> None:
    assert source_config(engine="aurora-mysql").dms_engine == "aurora"
    assert source_config(engine="aurora-postgresql").dms_engine == "aurora-postgresql"


def test_nothing_configured_means_no_source_and_the_schedule() -> None:
    config = StackConfig.load(MappingSource({}), stack="test")
    assert config.ingestion == sources.IngestionConfig()
    assert config.ingestion.sources == () and config.ingestion.trigger.mode == "schedule"


def test_trigger_accepts_a_word_or_an_object() -> None:
    assert sources.parse({"trigger": "events"}).trigger == sources.TriggerConfig(mode="events")
    parsed = sources.parse({"trigger": json.dumps(TRIGGER_OVERLAY)}).trigger
    assert (parsed.mode, parsed.batch_size, parsed.batch_window_seconds) == ("events", 50, 300)


def _with(index: int, **changes: Any) -> dict[str, Any]:
    entries = [dict(entry) for entry in SOURCES]
    entries[index].update(changes)
    for key in [k for k, v in changes.items() if v is None]:
        del entries[index][key]
    return {"sources": entries}


BAD_CONFIGS = [
    (_with(1, engine="oracle"), "medallion:sources[1].engine", "'oracle' is not one of"),
    (_with(0, name="Retail"), "medallion:sources[0].name", "lower snake case"),
    (_with(1, name="retail"), "medallion:sources[1].name", "already the name of"),
    (_with(0, database=None), "medallion:sources[0].database", "is required"),
    (_with(0, secretArn=None), "medallion:sources[0].secretArn", "is required"),
    (
        _with(0, secretArn=f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:retail"),
        "medallion:sources[0].secretArn",
        "six-character suffix",
    ),
    (_with(1, subnetIds=SUBNETS[:1]), "medallion:sources[1].subnetIds", "at least 2"),
    (
        _with(1, subnetIds=[SUBNETS[0], "sub-1"]),
        "medallion:sources[1].subnetIds[1]",
        "not subnet ids",
    ),
    (_with(0, securityGroupIds=[]), "medallion:sources[0].securityGroupIds", "at least 1"),
    (_with(0, capacity={"min": 3}), "medallion:sources[0].capacity.min", "not a DCU size"),
    (
        _with(0, capacity={"min": 8, "max": 4}),
        "medallion:sources[0].capacity.min",
        "above medallion:sources[0].capacity.max",
    ),
    (_with(0, sslMode="off"), "medallion:sources[0].sslMode", "not one of"),
    (_with(0, region="eu-west-1"), "medallion:sources[0]", "unknown keys ['region']"),
    ({"sources": {"name": "retail"}}, "medallion:sources", "must be a list"),
    ({"trigger": "hourly"}, "medallion:trigger", "'hourly' is not one of"),
    ({"trigger": {"mode": "events", "batchSize": 101}}, "medallion:trigger.batchSize", "100"),
    (
        {"trigger": {"mode": "events", "batchWindowSeconds": 0}},
        "medallion:trigger.batchWindowSeconds",
        "between 1 and 900",
    ),
    ({"replication": {"multiAz": "yes"}}, "medallion:replication.multiAz", "true or false"),
]


@pytest.mark.parametrize(
    ("values", "key", "problem"), BAD_CONFIGS, ids=[key for _, key, _ in BAD_CONFIGS]
)
def test_every_error_names_its_key(values: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        StackConfig.load(MappingSource(values), stack="test")
    assert f"config {key}: " in str(caught.value)
    assert problem in str(caught.value)


def test_stack_files_differ_in_replication_capacity_and_multi_az() -> None:
    dev, prod = (load_config(stack).ingestion.replication for stack in STACKS)
    assert dev.capacity.max < prod.capacity.max
    assert dev.capacity.min <= prod.capacity.min
    assert (dev.multi_az, prod.multi_az) == (False, True)
    # The real stacks replicate nothing until a user adds a source: no placeholder ARNs.
    assert all(load_config(stack).ingestion.sources == () for stack in STACKS)


# --- table mappings follow the domain ----------------------------------------------------------


def selected(mappings: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (r["object-locator"]["schema-name"], r["object-locator"]["table-name"])
        for r in mappings["rules"]
        if r["rule-type"] == "selection" and r["rule-action"] == "include"
    ]


def test_mappings_select_exactly_the_declared_tables_of_the_source() -> None:
    retail = source_config()
    declared = sorted(t.name for t in DOMAIN.tables if t.source == "retail")
    mappings = table_mappings(retail, source_tables(DOMAIN, retail))
    assert selected(mappings) == [("retail", name) for name in declared]
    assert "employees" not in {table for _, table in selected(mappings)}


def test_adding_a_table_adds_a_selection_rule_and_removing_it_removes_it() -> None:
    retail = source_config()
    base = tuple(t for t in DOMAIN.tables if t.source == "retail")
    refunds = Table(
        name="refunds",
        source="retail",
        columns=(Column("refund_id", "bigint"), Column("sale_id", "bigint")),
        primary_key=("refund_id",),
    )
    before = selected(table_mappings(retail, source_tables(domain_with(base), retail)))
    grown = domain_with((*base, refunds))
    after = selected(table_mappings(retail, source_tables(grown, retail)))
    assert set(after) - set(before) == {("retail", "refunds")}
    assert len(after) == len(before) + 1
    shrunk = domain_with(tuple(t for t in base if t.name != "products"))
    fewer = selected(table_mappings(retail, source_tables(shrunk, retail)))
    assert set(before) - set(fewer) == {("retail", "products")}
    assert len(fewer) == len(before) - 1


def test_change_seq_is_added_from_dms_change_sequence() -> None:
    retail = source_config()
    rules = table_mappings(retail, source_tables(DOMAIN, retail))["rules"]
    (added,) = [r for r in rules if r.get("rule-action") == "add-column"]
    assert added["rule-type"] == "transformation" and added["rule-target"] == "column"
    assert added["value"] == "change_seq"
    assert added["expression"] == "$AR_H_CHANGE_SEQ"
    assert added["object-locator"] == {"schema-name": "retail", "table-name": "%"}
    assert [r["rule-id"] for r in rules] == [str(i) for i in range(1, len(rules) + 1)]


def test_schema_is_renamed_to_the_source_name_only_when_they_differ() -> None:
    same = table_mappings(source_config(), source_tables(DOMAIN, source_config()))
    assert not [r for r in same["rules"] if r.get("rule-target") == "schema"]
    other = source_config(database="shop")
    rules = table_mappings(other, source_tables(DOMAIN, other))["rules"]
    (rename,) = [r for r in rules if r.get("rule-target") == "schema"]
    assert rename["rule-action"] == "rename"
    assert rename["object-locator"] == {"schema-name": "shop"}
    assert rename["value"] == "retail"  # DMS names the landing folder after the schema
    assert {schema for schema, _ in selected({"rules": rules})} == {"shop"}


def test_the_longest_names_fit_aws_limits() -> None:
    """IAM role names (Pulumi appends 8 characters) <= 64; DMS identifiers <= 255, letters,
    digits and single hyphens, as long as the config validates."""
    longest = source_config(name="a_" + "b" * (sources.MAX_SOURCE_NAME - 2))
    name = component_name("x" * MAX_BASE_NAME, longest)
    assert len(f"{name}-role") + 8 <= 64
    for identifier in (name, f"{name}-source", f"{name}-target"):
        assert len(identifier) <= 255 and "--" not in identifier and "_" not in identifier
    with pytest.raises(ConfigError, match=r"medallion:sources\[0\]\.name"):
        source_config(name="a" * (sources.MAX_SOURCE_NAME + 1))


def test_a_source_without_declared_tables_is_a_config_error() -> None:
    crm = source_config(name="crm")
    with pytest.raises(ConfigError, match=r"config medallion:sources\[0\]\.name: .*'crm'"):
        source_tables(DOMAIN, crm)


# --- the mocked stacks: components -----------------------------------------------------------


def test_one_replication_component_per_source(run: StackRun) -> None:
    lakehouse = next(r for r in run.resources if r.type == "medallion:index:Lakehouse")
    for source in ("retail", "hr"):
        built = component(run, source)
        assert built.parent == lakehouse.urn
        for type_ in (REPLICATION_CONFIG, SOURCE_ENDPOINT, TARGET_ENDPOINT, SUBNET_GROUP, ROLE):
            owned(run, source, type_)
    assert len(run.of_type(REPLICATION_CONFIG)) == 2
    assert set(run.exports["replicationConfigArns"]) == {"retail", "hr"}


def test_every_resource_is_parented_and_named_from_its_component(run: StackRun) -> None:
    assert_parented_and_named(run)


def test_default_stacks_declare_no_replication(stack: StackRun) -> None:
    """Without medallion:sources nothing of DMS exists, nor DMS's grants on key and topic."""
    assert not [r for r in stack.resources if r.type.startswith("aws:dms/")]
    assert "replicationConfigArns" not in stack.exports
    key_policy = json.loads(stack.one(KMS_KEY)["policy"])
    topic_policy = json.loads(stack.one(TOPIC_POLICY)["policy"])
    assert "dms.amazonaws.com" not in json.dumps([key_policy, topic_policy])


# --- the S3 target: the landing contract ------------------------------------------------------


@pytest.mark.parametrize("setting", sorted(LANDING_CONTRACT))
def test_target_endpoint_keeps_the_landing_contract(
    replicated: dict[str, StackRun], setting: str
) -> None:
    targets = [t for run in replicated.values() for t in run.of_type(TARGET_ENDPOINT)]
    assert len(targets) == 4
    for target in targets:
        assert target.get(setting) == LANDING_CONTRACT[setting], f"{target.name}: {setting}"


def test_target_writes_the_bronze_bucket_with_the_lakehouse_key(run: StackRun) -> None:
    for source in ("retail", "hr"):
        target = owned(run, source, TARGET_ENDPOINT)
        assert target["endpointType"] == "target"
        assert target["bucketName"] == landing_bucket(run)
        assert target["expectedBucketOwner"] == ACCOUNT
        assert target["serverSideEncryptionKmsKeyId"] == run.key_arn
        assert target["kmsKeyArn"] == run.key_arn
        assert target["serviceAccessRoleArn"] == owned(run, source, ROLE).outputs["arn"]


def test_stack_mappings_are_the_declared_tables(run: StackRun) -> None:
    for source, schema in (("retail", "retail"), ("hr", "public")):
        config = owned(run, source, REPLICATION_CONFIG)
        mappings = json.loads(config["tableMappings"])
        declared = sorted(t.name for t in DOMAIN.tables if t.source == source)
        assert selected(mappings) == [(schema, name) for name in declared]
        renames = [r for r in mappings["rules"] if r.get("rule-target") == "schema"]
        # PostgreSQL's public schema lands as landing/hr/; MySQL's retail already matches.
        assert [r["value"] for r in renames] == ([] if schema == source else [source])
        (added,) = [r for r in mappings["rules"] if r.get("value") == "change_seq"]
        assert {k: added[k] for k in ("rule-type", "rule-target", "rule-action")} == {
            "rule-type": "transformation",
            "rule-target": "column",
            "rule-action": "add-column",
        }
        assert added["expression"] == "$AR_H_CHANGE_SEQ"
        assert added["object-locator"] == {"schema-name": schema, "table-name": "%"}


# --- replication and source endpoint ---------------------------------------------------------


def test_replication_is_full_load_then_cdc_between_its_endpoints(run: StackRun) -> None:
    for source in ("retail", "hr"):
        config = owned(run, source, REPLICATION_CONFIG)
        assert config["replicationType"] == "full-load-and-cdc"
        assert config["startReplication"] is True
        assert (
            config["sourceEndpointArn"]
            == owned(run, source, SOURCE_ENDPOINT).outputs["endpointArn"]
        )
        assert (
            config["targetEndpointArn"]
            == owned(run, source, TARGET_ENDPOINT).outputs["endpointArn"]
        )
        compute = config["computeConfig"]
        subnets = owned(run, source, SUBNET_GROUP)
        assert compute["replicationSubnetGroupId"] == subnets["replicationSubnetGroupId"]
        assert subnets["subnetIds"] == SUBNETS
        assert compute["vpcSecurityGroupIds"] == SECURITY_GROUPS
        assert compute["kmsKeyId"] == run.key_arn


def test_a_reload_clears_the_table_folder_first(run: StackRun) -> None:
    """DROP_AND_CREATE: after a reload the folder holds one snapshot, no stale LOAD files."""
    for source in ("retail", "hr"):
        settings = json.loads(owned(run, source, REPLICATION_CONFIG)["replicationSettings"])
        assert settings["FullLoadSettings"]["TargetTablePrepMode"] == "DROP_AND_CREATE"
        assert settings["Logging"]["EnableLogging"] is True


def test_source_endpoint_reads_the_secret_and_holds_no_password(run: StackRun) -> None:
    expected = {
        "retail": ("mysql", "retail", RETAIL_SECRET),
        "hr": ("postgres", "people", HR_SECRET),
    }
    for source, (engine, database, secret) in expected.items():
        endpoint = owned(run, source, SOURCE_ENDPOINT)
        assert endpoint["endpointType"] == "source"
        assert (endpoint["engineName"], endpoint["databaseName"]) == (engine, database)
        assert endpoint["secretsManagerArn"] == secret
        assert endpoint["secretsManagerAccessRoleArn"] == owned(run, source, ROLE).outputs["arn"]
        assert endpoint["sslMode"] == "require"
        for held in ("password", "username", "serverName", "port"):
            assert held not in endpoint.inputs, f"{endpoint.name} holds {held}"
    postgres = owned(run, "hr", SOURCE_ENDPOINT)["postgresSettings"]
    assert postgres == {"heartbeatEnable": True, "captureDdls": False}
    assert "postgresSettings" not in owned(run, "retail", SOURCE_ENDPOINT).inputs


# --- the DMS service role --------------------------------------------------------------------


def _object(run: StackRun, key: str, bucket: str | None = None) -> str:
    return f"arn:aws:s3:::{bucket or landing_bucket(run)}/{key}"


@pytest.mark.parametrize("source", ["retail", "hr"])
def test_service_role_writes_only_below_its_own_landing_folder(run: StackRun, source: str) -> None:
    policy = role_policy(run, owned(run, source, ROLE))
    other = "hr" if source == "retail" else "retail"
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectTagging"):
        assert is_allowed(policy, action, _object(run, f"landing/{source}/t/LOAD00000001.parquet"))
        for key in (
            f"landing/{other}/t/LOAD00000001.parquet",
            "landing/_rejected/x.parquet",
            f"landing/{source}.parquet",
            "tables/clients/part-0.parquet",
        ):
            assert not is_allowed(policy, action, _object(run, key)), key
        silver = run.bucket_names["silver"]
        assert not is_allowed(policy, action, _object(run, f"landing/{source}/t/x", silver))
    bucket = f"arn:aws:s3:::{landing_bucket(run)}"
    assert is_allowed(policy, "s3:ListBucket", bucket, {"s3:prefix": f"landing/{source}/t/"})
    assert not is_allowed(policy, "s3:ListBucket", bucket, {"s3:prefix": f"landing/{other}/"})
    assert not is_allowed(policy, "s3:ListBucket", bucket, {"s3:prefix": ""})
    assert not is_allowed(policy, "s3:GetObject", _object(run, "tables/clients/x.parquet"))


@pytest.mark.parametrize("source", ["retail", "hr"])
def test_service_role_reads_only_its_own_secret(run: StackRun, source: str) -> None:
    policy = role_policy(run, owned(run, source, ROLE))
    own, other = (RETAIL_SECRET, HR_SECRET) if source == "retail" else (HR_SECRET, RETAIL_SECRET)
    assert is_allowed(policy, "secretsmanager:GetSecretValue", own)
    assert not is_allowed(policy, "secretsmanager:GetSecretValue", other)
    assert not is_allowed(policy, "secretsmanager:PutSecretValue", own)


def test_service_role_uses_only_the_lakehouse_key(run: StackRun) -> None:
    for source in ("retail", "hr"):
        policy = role_policy(run, owned(run, source, ROLE))
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            assert is_allowed(policy, action, run.key_arn)
            assert not is_allowed(policy, action, f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/other")


def test_service_role_is_trusted_by_dms_of_this_account_only(run: StackRun) -> None:
    for source in ("retail", "hr"):
        trust = json.loads(owned(run, source, ROLE)["assumeRolePolicy"])
        (statement,) = statements(trust)
        assert statement["Principal"] == {
            "Service": ["dms.amazonaws.com", "dms.eu-west-1.amazonaws.com"]
        }
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_new_roles_name_every_action_and_resource(run: StackRun) -> None:
    """No wildcard action, no ``Resource: *`` and no managed policy on the DMS and EventBridge
    roles (the job roles are checked in test_infra_iam.py)."""
    new_roles = [r for r in run.of_type(ROLE) if "-dms-" in r.name or "-landing-" in r.name]
    assert len(new_roles) == 3
    for role in new_roles:
        assert not role.get("managedPolicyArns"), role.name
        policy = role_policy(run, role)
        assert not [a for a in actions(policy) if "*" in a], role.name
        assert all(s["Resource"] != "*" for s in statements(policy)), role.name


# --- alerts ----------------------------------------------------------------------------------


def test_replication_failures_and_state_changes_reach_the_alert_topic(run: StackRun) -> None:
    for source in ("retail", "hr"):
        subscription = owned(run, source, EVENT_SUBSCRIPTION)
        config = owned(run, source, REPLICATION_CONFIG)
        assert subscription["snsTopicArn"] == run.exports["alertTopicArn"]
        assert sorted(subscription["eventCategories"]) == ["failure", "state change"]
        assert subscription["sourceType"] == "replication-task"
        assert subscription["sourceIds"] == [config["replicationConfigIdentifier"]]
        assert subscription["enabled"] is True


def test_dms_may_publish_to_the_encrypted_alert_topic(run: StackRun) -> None:
    topic = run.exports["alertTopicArn"]
    context = {"aws:SourceAccount": ACCOUNT}
    topic_policy = json.loads(run.one(TOPIC_POLICY)["policy"])
    dms = [
        s for s in statements(topic_policy) if s["Principal"] == {"Service": "dms.amazonaws.com"}
    ]
    assert dms and is_allowed({"Statement": dms}, "sns:Publish", topic, context)
    assert not is_allowed({"Statement": dms}, "sns:Publish", topic, {"aws:SourceAccount": "1"})
    key_policy = json.loads(run.one(KMS_KEY)["policy"])
    grants = [
        s for s in statements(key_policy) if s["Principal"] == {"Service": "dms.amazonaws.com"}
    ]
    assert grants and is_allowed({"Statement": grants}, "kms:GenerateDataKey", "*", context)
    assert not is_allowed({"Statement": grants}, "kms:Decrypt", "*", {"aws:SourceAccount": "1"})


# --- dev and prod ----------------------------------------------------------------------------


def test_prod_replicates_bigger_multi_az_and_protected(replicated: dict[str, StackRun]) -> None:
    dev, prod = replicated["dev"], replicated["prod"]
    dev_retail = owned(dev, "retail", REPLICATION_CONFIG)
    prod_retail = owned(prod, "retail", REPLICATION_CONFIG)
    assert dev_retail["computeConfig"]["maxCapacityUnits"] == 2
    assert prod_retail["computeConfig"]["maxCapacityUnits"] == 16
    assert (
        prod_retail["computeConfig"]["minCapacityUnits"]
        > dev_retail["computeConfig"]["minCapacityUnits"]
    )
    assert (dev_retail["computeConfig"]["multiAz"], prod_retail["computeConfig"]["multiAz"]) == (
        False,
        True,
    )
    assert (dev_retail.protect, prod_retail.protect) == (False, True)
    for run in (dev, prod):  # a source's own capacity wins over the stack's
        hr = owned(run, "hr", REPLICATION_CONFIG)["computeConfig"]
        assert (hr["minCapacityUnits"], hr["maxCapacityUnits"]) == (1, 2)


# --- medallion:trigger: events ---------------------------------------------------------------


def _matches(pattern: Any, event: Any) -> bool:
    """EventBridge matching for the pattern shapes used here: exact values and prefixes."""
    if isinstance(pattern, dict):
        return isinstance(event, dict) and all(
            key in event and _matches(value, event[key]) for key, value in pattern.items()
        )
    return any(
        event.startswith(option["prefix"]) if isinstance(option, dict) else event == option
        for option in pattern
    )


def _created(bucket: str, key: str) -> dict[str, Any]:
    return {
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"bucket": {"name": bucket}, "object": {"key": key}},
    }


def landing_trigger(run: StackRun) -> Resource:
    (found,) = [r for r in run.resources if r.type == "medallion:index:LandingTrigger"]
    return found


def test_bronze_bucket_sends_its_events_to_eventbridge(run: StackRun) -> None:
    (notification,) = run.of_type(NOTIFICATION)
    assert notification["bucket"] == landing_bucket(run)
    assert notification["eventbridge"] is True


def test_rule_matches_files_landing_below_declared_sources_only(run: StackRun) -> None:
    (rule,) = [r for r in run.of_type(EVENT_RULE) if r.name.endswith("-landed")]
    pattern = json.loads(rule["eventPattern"])
    bucket = landing_bucket(run)
    for key in (
        "landing/retail/clients/LOAD00000001.parquet",
        "landing/retail/sales/2026/12/04/20261204-101500123.parquet",
        "landing/hr/employees/LOAD00000001.parquet",
    ):
        assert _matches(pattern, _created(bucket, key)), key
    for key in (
        "landing/_rejected/retail/clients/bad.csv",  # bronze moves malformed files here
        "tables/clients/part-00000.parquet",  # bronze's own Delta writes
        "landing/crm/accounts/LOAD00000001.parquet",  # not a declared source
    ):
        assert not _matches(pattern, _created(bucket, key)), key
    assert not _matches(pattern, _created("another-bucket", "landing/retail/x.parquet"))
    deleted = {**_created(bucket, "landing/retail/x.parquet"), "detail-type": "Object Deleted"}
    assert not _matches(pattern, deleted)


def test_event_trigger_starts_bronze_in_batches(run: StackRun) -> None:
    workflow = run.exports["workflowName"]
    starts = [t for t in run.of_type(TRIGGER) if t.get("workflowName") == workflow]
    assert "SCHEDULED" not in {t["type"] for t in starts}  # one starting trigger: the event
    (event,) = [t for t in starts if t["type"] == "EVENT"]
    assert event["actions"] == [{"jobName": run.job_names["bronze"]}]
    assert event["eventBatchingConditions"] == [{"batchSize": 50, "batchWindow": 300}]
    assert event["enabled"] is True
    assert event.parent == landing_trigger(run).urn
    chained = sorted(t.name for t in starts if t["type"] == "CONDITIONAL")
    assert chained == [
        f"medallion-{run.stack}-gold-after-silver",
        f"medallion-{run.stack}-silver-after-bronze",
    ]


def test_eventbridge_notifies_the_workflow_through_its_own_role(run: StackRun) -> None:
    workflow_arn = f"arn:aws:glue:eu-west-1:{ACCOUNT}:workflow/{run.exports['workflowName']}"
    parent = landing_trigger(run).urn
    targets = [t for t in run.of_type(EVENT_TARGET) if t.parent == parent]
    (role,) = [r for r in run.of_type(ROLE) if r.parent == parent]
    assert targets and all(t["arn"] == workflow_arn for t in targets)
    assert all(t["roleArn"] == role.outputs["arn"] for t in targets)
    policy = role_policy(run, role)
    assert is_allowed(policy, "glue:NotifyEvent", workflow_arn)
    maintenance = f"arn:aws:glue:eu-west-1:{ACCOUNT}:workflow/medallion-{run.stack}-maintenance"
    assert not is_allowed(policy, "glue:NotifyEvent", maintenance)
    assert not is_allowed(policy, "glue:StartJobRun", workflow_arn)
    (trust,) = statements(json.loads(role["assumeRolePolicy"]))
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_schedule_stays_as_a_safety_net_only_where_it_is_on(
    replicated: dict[str, StackRun],
) -> None:
    for stack, enabled in (("dev", False), ("prod", True)):
        run = replicated[stack]
        assert load_config(stack).schedule.enabled is enabled
        nets = [r for r in run.of_type(EVENT_RULE) if r.name.endswith("-safety-net")]
        if not enabled:
            assert nets == []
            continue
        (net,) = nets
        assert net["scheduleExpression"] == load_config(stack).schedule.expression
        (target,) = [
            t for t in run.of_type(EVENT_TARGET) if t.name.endswith("safety-net-to-workflow")
        ]
        assert target["rule"] == net.outputs["name"]
        assert target["arn"].endswith(f":workflow/{run.exports['workflowName']}")


def test_schedule_mode_keeps_the_glue_schedule_and_no_event_wiring(stack: StackRun) -> None:
    assert stack.of_type(NOTIFICATION) == []
    assert not [r for r in stack.resources if r.type == "medallion:index:LandingTrigger"]
    starts = [t for t in stack.of_type(TRIGGER) if t["name"] == f"medallion-{stack.stack}-start"]
    assert [t["type"] for t in starts] == ["SCHEDULED"]
