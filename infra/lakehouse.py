"""``Lakehouse``: the three medallion layers and everything they share.

One KMS key (rotated) encrypts every bucket, log group, the alert topic, job bookmarks and
Athena results; an artifacts bucket holds the wheel and the Glue script under a content-hash
key; a log bucket receives S3 access logs; a Glue workflow runs bronze -> silver -> gold on a
schedule and a second one runs the weekly table maintenance; failed job runs reach an SNS topic;
an Athena workgroup queries the catalog with encrypted results.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from infra import catalog, policies
from infra.bucket import SecureBucket, SecureBucketArgs
from infra.config import StackConfig
from infra.domain import DomainArchive
from infra.job import TransformJob, TransformJobArgs
from infra.layer import LANDING_PREFIX, TABLES_PREFIX, MedallionLayer, MedallionLayerArgs
from infra.wheel import ARTIFACT_PREFIX, BuiltWheel
from medallion.spec import Domain

LAYERS = ("bronze", "silver", "gold")
MAINTAIN = "maintain"
ATHENA_RESULTS_PREFIX = "athena-results/"
ATHENA_ENGINE = "Athena engine version 3"
#: Job run states that page someone.
FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")


@dataclass(frozen=True)
class LakehouseArgs:
    """The validated stack config, the table declarations and the built package."""

    config: StackConfig
    domain: Domain
    package: BuiltWheel
    #: The same declarations as a zip the jobs load at start (``--domain-root``).
    domain_archive: DomainArchive


class Lakehouse(pulumi.ComponentResource):
    """Three ``MedallionLayer``s, the shared key, buckets, schedule, alerting and Athena."""

    bucket_names: pulumi.Output[dict[str, str]]
    landing_uri: pulumi.Output[str]
    database_names: pulumi.Output[dict[str, str]]
    job_names: pulumi.Output[dict[str, str]]
    workflow_name: pulumi.Output[str]
    maintenance_workflow_name: pulumi.Output[str]
    athena_workgroup: pulumi.Output[str]
    alert_topic_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    wheel_uri: pulumi.Output[str]
    domain_uri: pulumi.Output[str]

    def __init__(
        self, name: str, args: LakehouseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medallion:index:Lakehouse", name, None, opts)
        cfg = args.config
        child = pulumi.ResourceOptions(parent=self)
        ctx = _aws_context(self)

        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {name} lakehouse: data, logs, alerts, query results",
            enable_key_rotation=True,
            deletion_window_in_days=cfg.protection.kms_deletion_window_days,
            policy=policies.document(_key_policy(ctx)),
            opts=pulumi.ResourceOptions(parent=self, protect=cfg.protection.protect),
        )
        aws.kms.Alias(
            f"{name}-key-alias", name=f"alias/{name}", target_key_id=key.key_id, opts=child
        )

        def bucket_name(role: str) -> pulumi.Output[str]:
            return pulumi.Output.concat(name, "-", role, "-", ctx.account_id, "-", ctx.region)

        def storage(
            role: str,
            access_log_bucket: pulumi.Input[str] | None,
            expiring_prefixes: tuple[tuple[str, int], ...] = (),
            extra_policy_statements: tuple[policies.Statement, ...] = (),
        ) -> SecureBucketArgs:
            return SecureBucketArgs(
                bucket_name=bucket_name(role),
                kms_key_arn=key.arn,
                noncurrent_version_days=cfg.retention.noncurrent_version_days,
                access_log_bucket=access_log_bucket,
                expiring_prefixes=expiring_prefixes,
                extra_policy_statements=extra_policy_statements,
                force_destroy=cfg.protection.force_destroy,
                protect=cfg.protection.protect,
            )

        # The log bucket logs nowhere (logging it into itself would loop); its logs expire.
        access_logs = SecureBucket(
            f"{name}-access-logs",
            storage(
                "access-logs",
                access_log_bucket=None,
                expiring_prefixes=(("", cfg.retention.access_log_days),),
                extra_policy_statements=(_access_log_delivery(bucket_name("access-logs"), ctx),),
            ),
            child,
        )
        log_target = access_logs.bucket_name
        artifacts = SecureBucket(
            f"{name}-artifacts",
            storage(
                "artifacts",
                log_target,
                expiring_prefixes=((ATHENA_RESULTS_PREFIX, cfg.retention.athena_result_days),),
            ),
            child,
        )
        wheel = aws.s3.BucketObjectv2(
            f"{name}-wheel",
            bucket=artifacts.bucket_name,
            key=args.package.key,
            source=pulumi.FileAsset(str(args.package.path)),
            content_type="application/zip",
            opts=child,
        )
        script = aws.s3.BucketObjectv2(
            f"{name}-glue-script",
            bucket=artifacts.bucket_name,
            key=args.package.script_key,
            source=pulumi.FileAsset(str(args.package.script_path)),
            content_type="text/x-python",
            opts=child,
        )
        domain_archive = aws.s3.BucketObjectv2(
            f"{name}-domain",
            bucket=artifacts.bucket_name,
            key=args.domain_archive.key,
            source=pulumi.FileAsset(str(args.domain_archive.path)),
            content_type="application/zip",
            opts=child,
        )
        wheel_uri = pulumi.Output.concat("s3://", wheel.bucket, "/", wheel.key)
        domain_uri = pulumi.Output.concat("s3://", domain_archive.bucket, "/", domain_archive.key)
        script_uri = pulumi.Output.concat("s3://", script.bucket, "/", script.key)

        security = aws.glue.SecurityConfiguration(
            f"{name}-glue-security",
            name=f"{name}-glue",
            encryption_configuration={
                "cloudwatch_encryption": {
                    "cloudwatch_encryption_mode": "SSE-KMS",
                    "kms_key_arn": key.arn,
                },
                "job_bookmarks_encryption": {
                    "job_bookmarks_encryption_mode": "CSE-KMS",
                    "kms_key_arn": key.arn,
                },
                "s3_encryption": {"s3_encryption_mode": "SSE-KMS", "kms_key_arn": key.arn},
            },
            opts=child,
        )

        databases = {layer: f"{name.replace('-', '_')}_{layer}" for layer in LAYERS}
        job_names = {layer: f"{name}-{layer}" for layer in (*LAYERS, MAINTAIN)}
        buckets = {layer: bucket_name(layer) for layer in LAYERS}

        def uri(bucket: pulumi.Input[str], prefix: str) -> pulumi.Output[str]:
            return pulumi.Output.concat("s3://", bucket, "/", prefix.rstrip("/"))

        shared_arguments: dict[str, pulumi.Input[str]] = {
            "--domain-root": domain_uri,
            "--landing-root": uri(buckets["bronze"], LANDING_PREFIX),
            **{f"--{layer}-root": uri(buckets[layer], TABLES_PREFIX) for layer in LAYERS},
            **{f"--{layer}-database": databases[layer] for layer in LAYERS},
        }

        def job(layer: str, arguments: dict[str, pulumi.Input[str]]) -> TransformJobArgs:
            return TransformJobArgs(
                job_name=job_names[layer],
                layer=layer,
                script_uri=script_uri,
                wheel_uri=wheel_uri,
                arguments={**shared_arguments, **arguments},
                data_statements=[],
                aws_context=ctx,
                kms_key_arn=key.arn,
                artifacts_bucket_arn=artifacts.arn,
                artifacts_prefix=f"{ARTIFACT_PREFIX}/",
                security_configuration=security.name,
                sizing=cfg.jobs,
                log_retention_days=cfg.retention.log_days,
                description=f"medallion {layer} ({name})",
            )

        tables = {
            "bronze": catalog.bronze_tables(args.domain),
            "silver": catalog.silver_tables(args.domain),
            "gold": catalog.gold_tables(args.domain),
        }
        silver_arguments: dict[str, pulumi.Input[str]] = {}
        if cfg.jobs.max_bad_ratio is not None:
            silver_arguments["--max-bad-ratio"] = str(cfg.jobs.max_bad_ratio)
        layer_arguments = {"bronze": {}, "silver": silver_arguments, "gold": {}}

        self.layers: dict[str, MedallionLayer] = {}
        upstream: SecureBucket | None = None
        for layer in LAYERS:
            built = MedallionLayer(
                f"{name}-{layer}",
                MedallionLayerArgs(
                    layer=layer,
                    storage=storage(layer, log_target),
                    database_name=databases[layer],
                    tables=tables[layer],
                    job=job(layer, layer_arguments[layer]),
                    upstream=upstream,
                    protect=cfg.protection.protect,
                ),
                child,
            )
            self.layers[layer] = built
            upstream = built.storage

        maintenance_grants: list[policies.Statement] = []
        for layer, built in self.layers.items():
            maintenance_grants += built.storage.grant_read_write(
                f"Maintain{layer.capitalize()}Tables", TABLES_PREFIX
            )
        maintain_args = replace(
            job(MAINTAIN, {"--retention-hours": str(cfg.schedule.retention_hours)}),
            data_statements=maintenance_grants,
            # OPTIMIZE and VACUUM work on paths: no catalog, no catalog grants.
            use_catalog=False,
        )
        self.maintenance = TransformJob(f"{name}-{MAINTAIN}", maintain_args, child)

        workflow, maintenance_workflow = _schedule(
            name,
            cfg,
            [self.layers[layer].job_name for layer in LAYERS],
            self.maintenance.job_name,
            self,
        )

        topic = _alerting(name, cfg, key, list(job_names.values()), self)

        workgroup = aws.athena.Workgroup(
            f"{name}-athena",
            name=name,
            description=f"Queries over the {name} catalog databases",
            force_destroy=cfg.protection.force_destroy,
            configuration={
                "enforce_workgroup_configuration": True,
                "publish_cloudwatch_metrics_enabled": True,
                "engine_version": {"selected_engine_version": ATHENA_ENGINE},
                "result_configuration": {
                    "output_location": artifacts.uri(ATHENA_RESULTS_PREFIX),
                    "encryption_configuration": {
                        "encryption_option": "SSE_KMS",
                        "kms_key_arn": key.arn,
                    },
                },
            },
            opts=child,
        )

        self.bucket_names = pulumi.Output.all(
            **{layer: built.bucket_name for layer, built in self.layers.items()},
            artifacts=artifacts.bucket_name,
            access_logs=access_logs.bucket_name,
        )
        self.landing_uri = uri(self.layers["bronze"].bucket_name, LANDING_PREFIX)
        self.database_names = pulumi.Output.all(
            **{layer: built.database_name for layer, built in self.layers.items()}
        )
        self.job_names = pulumi.Output.all(
            **{layer: built.job_name for layer, built in self.layers.items()},
            maintain=self.maintenance.job_name,
        )
        self.workflow_name = workflow.name
        self.maintenance_workflow_name = maintenance_workflow.name
        self.athena_workgroup = workgroup.name
        self.alert_topic_arn = topic.arn
        self.kms_key_arn = key.arn
        self.wheel_uri = wheel_uri
        self.domain_uri = domain_uri
        self.register_outputs(
            {
                "bucket_names": self.bucket_names,
                "landing_uri": self.landing_uri,
                "database_names": self.database_names,
                "job_names": self.job_names,
                "workflow_name": self.workflow_name,
                "maintenance_workflow_name": self.maintenance_workflow_name,
                "athena_workgroup": self.athena_workgroup,
                "alert_topic_arn": self.alert_topic_arn,
                "kms_key_arn": self.kms_key_arn,
                "wheel_uri": self.wheel_uri,
                "domain_uri": self.domain_uri,
            }
        )


def _aws_context(parent: pulumi.Resource) -> policies.AwsContext:
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    return policies.AwsContext(
        partition=aws.get_partition_output(opts=invoke).partition,
        region=aws.get_region_output(opts=invoke).region,
        account_id=aws.get_caller_identity_output(opts=invoke).account_id,
    )


def _key_policy(ctx: policies.AwsContext) -> list[policies.Statement]:
    """The account administers the key (IAM policies grant its use); services get what they
    need to encrypt for the lakehouse: CloudWatch Logs, S3 access-log delivery, EventBridge."""
    root = pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id, ":root")
    same_account = {"StringEquals": {"aws:SourceAccount": ctx.account_id}}
    return [
        {
            "Sid": "AccountAdministersKey",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchLogsEncrypt",
            "Effect": "Allow",
            "Principal": {"Service": pulumi.Output.concat("logs.", ctx.region, ".amazonaws.com")},
            "Action": [
                "kms:Encrypt",
                "kms:Decrypt",
                "kms:ReEncryptFrom",
                "kms:ReEncryptTo",
                "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext",
                "kms:DescribeKey",
            ],
            "Resource": "*",
            "Condition": {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": ctx.log_group_arn("*")}
            },
        },
        {
            "Sid": "S3AccessLogDelivery",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": same_account,
        },
        {
            "Sid": "EventBridgePublishesAlerts",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": same_account,
        },
    ]


def _access_log_delivery(
    bucket_name: pulumi.Input[str], ctx: policies.AwsContext
) -> policies.Statement:
    """Let S3's log delivery write access logs, for buckets of this account only."""
    return {
        "Sid": "S3ServerAccessLogsDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": pulumi.Output.concat(
            "arn:", ctx.partition, ":s3:::", bucket_name, "/s3-access/*"
        ),
        "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
    }


def _schedule(
    name: str,
    cfg: StackConfig,
    chain: list[pulumi.Output[str]],
    maintenance_job: pulumi.Output[str],
    parent: pulumi.Resource,
) -> tuple[aws.glue.Workflow, aws.glue.Workflow]:
    """The daily workflow (schedule -> first job, each next job when the previous SUCCEEDED) and
    the weekly maintenance workflow."""
    child = pulumi.ResourceOptions(parent=parent)
    workflow = aws.glue.Workflow(
        f"{name}-workflow",
        name=name,
        description="bronze -> silver -> gold, on a schedule",
        max_concurrent_runs=1,
        opts=child,
    )
    aws.glue.Trigger(
        f"{name}-start",
        name=f"{name}-start",
        type="SCHEDULED",
        schedule=cfg.schedule.expression,
        enabled=cfg.schedule.enabled,
        start_on_creation=cfg.schedule.enabled,
        workflow_name=workflow.name,
        actions=[{"job_name": chain[0]}],
        opts=child,
    )
    for index, (before, after) in enumerate(itertools.pairwise(chain), start=1):
        step = f"{name}-{LAYERS[index]}-after-{LAYERS[index - 1]}"
        aws.glue.Trigger(
            step,
            name=step,
            type="CONDITIONAL",
            workflow_name=workflow.name,
            start_on_creation=True,
            predicate={
                "conditions": [
                    {"job_name": before, "state": "SUCCEEDED", "logical_operator": "EQUALS"}
                ]
            },
            actions=[{"job_name": after}],
            opts=child,
        )
    maintenance = aws.glue.Workflow(
        f"{name}-maintenance-workflow",
        name=f"{name}-maintenance",
        description="Weekly OPTIMIZE and VACUUM of every table",
        max_concurrent_runs=1,
        opts=child,
    )
    aws.glue.Trigger(
        f"{name}-maintenance-start",
        name=f"{name}-maintenance-start",
        type="SCHEDULED",
        schedule=cfg.schedule.maintenance_expression,
        enabled=cfg.schedule.enabled,
        start_on_creation=cfg.schedule.enabled,
        workflow_name=maintenance.name,
        actions=[{"job_name": maintenance_job}],
        opts=child,
    )
    return workflow, maintenance


def _alerting(
    name: str,
    cfg: StackConfig,
    key: aws.kms.Key,
    job_names: list[str],
    parent: pulumi.Resource,
) -> aws.sns.Topic:
    """Failed, timed-out or errored runs of any medallion job -> EventBridge -> SNS topic."""
    child = pulumi.ResourceOptions(parent=parent)
    topic = aws.sns.Topic(f"{name}-alerts", kms_master_key_id=key.arn, opts=child)
    rule = aws.cloudwatch.EventRule(
        f"{name}-job-failed",
        description=f"A medallion Glue job of {name} failed",
        event_pattern=json.dumps(
            {
                "source": ["aws.glue"],
                "detail-type": ["Glue Job State Change"],
                "detail": {"jobName": job_names, "state": list(FAILED_STATES)},
            }
        ),
        opts=child,
    )
    aws.sns.TopicPolicy(
        f"{name}-alerts-policy",
        arn=topic.arn,
        policy=policies.document(
            [
                {
                    "Sid": "EventBridgePublishes",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn}},
                }
            ]
        ),
        opts=child,
    )
    aws.cloudwatch.EventTarget(
        f"{name}-job-failed-to-alerts", rule=rule.name, arn=topic.arn, opts=child
    )
    if cfg.alert_email is not None:
        aws.sns.TopicSubscription(
            f"{name}-alerts-email",
            topic=topic.arn,
            protocol="email",
            endpoint=cfg.alert_email,
            opts=child,
        )
    return topic
