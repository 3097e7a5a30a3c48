"""``SourceReplication``: one source database replicated by AWS DMS Serverless into landing.

Per source (``medallion:sources``, see ``infra/sources.py``):

- a replication subnet group and a DMS Serverless replication config, full load then ongoing
  CDC, whose table mappings select exactly the domain's tables of that source;
- a source endpoint that reads its connection (host, port, user, password) from a Secrets
  Manager secret: the stack never holds a password;
- an S3 target endpoint writing ``landing/<source>/<table>/`` of the bronze bucket with every
  setting the landing contract needs (:data:`LANDING_SETTINGS`, docs/contract.md#landing);
- a service role DMS assumes for both endpoints: it writes below ``landing/<source>/`` only,
  uses the lakehouse key, and reads that source's secret only;
- an event subscription sending the replication's failures and state changes to the lakehouse
  alert topic.

Every setting is a named constant here, and ``docs/replication.md`` says why each is set.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.layer import LANDING_PREFIX
from infra.sources import Capacity, IngestionConfig, SourceConfig, config_error
from medallion.spec import CHANGE_SEQ_COLUMN, COMMIT_TS_COLUMN, Domain, Table

#: Full load of every selected table, then ongoing changes (CDC) from the moment it started.
REPLICATION_TYPE = "full-load-and-cdc"
#: The S3 target settings the landing contract depends on (docs/contract.md#landing and
#: docs/replication.md).
#: One wrong value corrupts silver without an error, so each has a test that fails on change.
LANDING_SETTINGS: dict[str, Any] = {
    "data_format": "parquet",
    "parquet_version": "parquet-2-0",
    # Microseconds: two changes of one key within a millisecond keep their order.
    "parquet_timestamp_in_millisecond": False,
    # Full-load files carry Op = I too, so full load and CDC files share one column layout.
    "include_op_for_full_load": True,
    "timestamp_column_name": COMMIT_TS_COLUMN,
    # Full-load rows get the task's start time: changes captured during the load sort after.
    "use_task_start_time_for_full_load_timestamp": True,
    # CDC files below <table>/yyyy/mm/dd/; full-load files LOAD*.parquet stay in <table>/.
    "date_partition_enabled": True,
    "date_partition_sequence": "YYYYMMDD",
    "date_partition_delimiter": "SLASH",
    # Inserts, updates and deletes all kept: either flag true silently drops deletes.
    "cdc_inserts_and_updates": False,
    "cdc_inserts_only": False,
    "preserve_transactions": False,
    "encryption_mode": "SSE_KMS",
}
#: DMS computes the change sequence of each row; the table mappings add it as a column.
CHANGE_SEQ_EXPRESSION = "$AR_H_CHANGE_SEQ"
#: ``$AR_H_CHANGE_SEQ`` is a 35-digit number; DMS documents it as a string column.
CHANGE_SEQ_TYPE = {"type": "string", "length": 50}
#: A reload clears the table's folder first, so the folder holds exactly one snapshot.
TARGET_TABLE_PREP_MODE = "DROP_AND_CREATE"
REPLICATION_SETTINGS: dict[str, Any] = {
    "Logging": {"EnableLogging": True},
    "FullLoadSettings": {"TargetTablePrepMode": TARGET_TABLE_PREP_MODE},
}
#: Events that reach the alert topic.
EVENT_CATEGORIES = ("failure", "state change")
#: DMS Serverless runs its replication as a task of this source type.
EVENT_SOURCE_TYPE = "replication-task"
#: What DMS does below ``landing/<source>/``: write files, clear a table's folder on reload.
DMS_S3_WRITE_ACTIONS = (
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:PutObjectTagging",
    "s3:AbortMultipartUpload",
)
SECRET_READ_ACTIONS = ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret")
#: Publishing to the KMS-encrypted alert topic needs the key too.
KMS_PUBLISH_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")
#: PostgreSQL sources: a heartbeat keeps the replication slot moving on an idle database (so the
#: WAL it pins cannot fill the disk); no DDL capture objects are created in the source.
POSTGRES_SETTINGS: aws.dms.EndpointPostgresSettingsArgsDict = {
    "heartbeat_enable": True,
    "capture_ddls": False,
}
DMS_SERVICE = "dms.amazonaws.com"


@dataclass(frozen=True)
class SourceReplicationArgs:
    """One source, the tables it replicates, and where its files and alerts go."""

    source: SourceConfig
    #: The declarations; the tables whose ``source`` is this source's name are replicated.
    domain: Domain
    capacity: Capacity
    multi_az: bool
    landing_bucket_name: pulumi.Input[str]
    landing_bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    aws_context: policies.AwsContext
    #: Keeps the replication config (and its CDC position) from being deleted with the stack.
    protect: bool = False


class SourceReplication(pulumi.ComponentResource):
    """DMS Serverless replication of one source database into ``landing/<source>/``."""

    replication_config_arn: pulumi.Output[str]
    source_endpoint_arn: pulumi.Output[str]
    target_endpoint_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    landing_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: SourceReplicationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medallion:index:SourceReplication", name, None, opts)
        source = args.source
        tables = source_tables(args.domain, source)
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws_context

        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=dms_assume_role(ctx),
            description=f"DMS replication of {source.name} into landing/{source.name}/",
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policies.document(
                service_role_statements(
                    source, args.landing_bucket_arn, args.kms_key_arn, args.aws_context
                )
            ),
            opts=child,
        )
        # DMS checks its access when an endpoint is created: the grants come first.
        granted = pulumi.ResourceOptions(parent=self, depends_on=[policy])

        subnets = aws.dms.ReplicationSubnetGroup(
            f"{name}-subnets",
            replication_subnet_group_id=name,
            replication_subnet_group_description=f"DMS replication of {source.name}",
            subnet_ids=list(source.subnet_ids),
            opts=child,
        )
        source_endpoint = aws.dms.Endpoint(
            f"{name}-source",
            endpoint_id=f"{name}-source",
            endpoint_type="source",
            engine_name=source.dms_engine,
            database_name=source.database,
            secrets_manager_arn=source.secret_arn,
            secrets_manager_access_role_arn=role.arn,
            ssl_mode=source.ssl_mode,
            kms_key_arn=args.kms_key_arn,
            postgres_settings=POSTGRES_SETTINGS if source.family == "postgres" else None,
            opts=granted,
        )
        target_endpoint = aws.dms.S3Endpoint(
            f"{name}-target",
            endpoint_id=f"{name}-target",
            endpoint_type="target",
            bucket_name=args.landing_bucket_name,
            bucket_folder=LANDING_PREFIX.rstrip("/"),
            expected_bucket_owner=ctx.account_id,
            service_access_role_arn=role.arn,
            server_side_encryption_kms_key_id=args.kms_key_arn,
            kms_key_arn=args.kms_key_arn,
            **LANDING_SETTINGS,
            opts=granted,
        )
        replication = aws.dms.ReplicationConfig(
            f"{name}-replication",
            replication_config_identifier=name,
            resource_identifier=name,
            replication_type=REPLICATION_TYPE,
            source_endpoint_arn=source_endpoint.endpoint_arn,
            target_endpoint_arn=target_endpoint.endpoint_arn,
            table_mappings=json.dumps(table_mappings(source, tables)),
            replication_settings=json.dumps(REPLICATION_SETTINGS),
            start_replication=True,
            compute_config={
                "replication_subnet_group_id": subnets.replication_subnet_group_id,
                "vpc_security_group_ids": list(source.security_group_ids),
                "min_capacity_units": args.capacity.min,
                "max_capacity_units": args.capacity.max,
                "multi_az": args.multi_az,
                "kms_key_id": args.kms_key_arn,
            },
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.dms.EventSubscription(
            f"{name}-events",
            name=name,
            sns_topic_arn=args.alert_topic_arn,
            source_type=EVENT_SOURCE_TYPE,
            source_ids=[replication.replication_config_identifier],
            event_categories=list(EVENT_CATEGORIES),
            enabled=True,
            opts=child,
        )

        self.replication_config_arn = replication.arn
        self.source_endpoint_arn = source_endpoint.endpoint_arn
        self.target_endpoint_arn = target_endpoint.endpoint_arn
        self.role_arn = role.arn
        self.landing_uri = pulumi.Output.concat(
            "s3://", args.landing_bucket_name, "/", LANDING_PREFIX, source.name, "/"
        )
        self.register_outputs(
            {
                "replication_config_arn": self.replication_config_arn,
                "source_endpoint_arn": self.source_endpoint_arn,
                "target_endpoint_arn": self.target_endpoint_arn,
                "role_arn": self.role_arn,
                "landing_uri": self.landing_uri,
            }
        )


def component_name(lakehouse: str, source: SourceConfig) -> str:
    """``<lakehouse>-dms-<source>``: the component's name and every child's prefix."""
    return f"{lakehouse}-dms-{source.identifier}"


def source_tables(domain: Domain, source: SourceConfig) -> tuple[Table, ...]:
    """The declared tables of ``source``; a source without any is a config error."""
    tables = tuple(t for t in domain.tables if t.source == source.name)
    if not tables:
        declared = sorted({t.source for t in domain.tables})
        raise config_error(
            f"{source.key}.name",
            f"no declared table has source {source.name!r}; the domain's sources are "
            f"{', '.join(declared) or 'none'}",
        )
    return tables


def table_mappings(source: SourceConfig, tables: Sequence[Table]) -> dict[str, Any]:
    """DMS table mappings: one selection rule per declared table, ``change_seq`` added to every
    selected table, and the schema renamed to the source name when they differ (DMS names the
    landing folder after the schema)."""
    rules: list[dict[str, Any]] = []

    def rule(**fields: Any) -> None:
        number = len(rules) + 1
        rules.append({"rule-id": str(number), **fields})

    for table in sorted(tables, key=lambda t: t.name):
        rule(
            **{
                "rule-type": "selection",
                "rule-name": f"include-{table.name}",
                "object-locator": {"schema-name": source.schema, "table-name": table.name},
                "rule-action": "include",
            }
        )
    rule(
        **{
            "rule-type": "transformation",
            "rule-name": f"add-{CHANGE_SEQ_COLUMN}",
            "rule-target": "column",
            "object-locator": {"schema-name": source.schema, "table-name": "%"},
            "rule-action": "add-column",
            "value": CHANGE_SEQ_COLUMN,
            "expression": CHANGE_SEQ_EXPRESSION,
            "data-type": dict(CHANGE_SEQ_TYPE),
        }
    )
    if source.schema != source.name:
        rule(
            **{
                "rule-type": "transformation",
                "rule-name": "schema-to-source-name",
                "rule-target": "schema",
                "object-locator": {"schema-name": source.schema},
                "rule-action": "rename",
                "value": source.name,
            }
        )
    return {"rules": rules}


def dms_assume_role(ctx: policies.AwsContext) -> pulumi.Output[str]:
    """Trust policy: DMS of this account only (the regional principal reads secrets)."""
    return pulumi.Output.json_dumps(
        {
            "Version": policies.POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {
                        "Service": [
                            DMS_SERVICE,
                            pulumi.Output.concat("dms.", ctx.region, ".amazonaws.com"),
                        ]
                    },
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                }
            ],
        }
    )


def service_role_statements(
    source: SourceConfig,
    bucket_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    ctx: policies.AwsContext,
) -> list[policies.Statement]:
    """Write below ``landing/<source>/`` only, use the lakehouse key, read this secret only."""
    prefix = f"{LANDING_PREFIX}{source.name}/"
    return [
        {
            "Sid": "ListOwnLanding",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [prefix.rstrip("/"), f"{prefix}*"]}},
        },
        {
            "Sid": "WriteOwnLanding",
            "Effect": "Allow",
            "Action": list(DMS_S3_WRITE_ACTIONS),
            "Resource": pulumi.Output.concat(bucket_arn, "/", prefix, "*"),
        },
        *policies.kms_use(kms_key_arn),
        {
            "Sid": "ReadOwnSecret",
            "Effect": "Allow",
            "Action": list(SECRET_READ_ACTIONS),
            "Resource": source.secret_arn,
        },
    ]


def key_policy_statements(
    ingestion: IngestionConfig, ctx: policies.AwsContext
) -> list[policies.Statement]:
    """Key policy addition: DMS event subscriptions publish to the encrypted alert topic."""
    if not ingestion.sources:
        return []
    return [
        {
            "Sid": "DmsPublishesAlerts",
            "Effect": "Allow",
            "Principal": {"Service": DMS_SERVICE},
            "Action": list(KMS_PUBLISH_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        }
    ]


def alert_topic_statements(
    ingestion: IngestionConfig, topic_arn: pulumi.Input[str], ctx: policies.AwsContext
) -> list[policies.Statement]:
    """Topic policy addition: DMS of this account publishes replication events."""
    if not ingestion.sources:
        return []
    return [
        {
            "Sid": "DmsPublishesReplicationEvents",
            "Effect": "Allow",
            "Principal": {"Service": DMS_SERVICE},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
        }
    ]
