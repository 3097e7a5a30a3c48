"""``LakehouseStack``: the three medallion layers and everything they share.

It composes the pieces of their own modules: the key (``infra.key``), the access-log and
artifacts buckets (``infra.bucket``, ``infra.artifacts``), one ``MedallionLayer`` per layer,
the schedule (``infra.schedule``), alerting (``infra.alerting``), Athena (``infra.athena``), and
the optional DMS replication of each source (``infra.replication``) and landing-event trigger
(``infra.events``).
Physical names come from ``infra.naming``. (``medallion.layout.Lakehouse`` is the package's
folder layout of a lakehouse, a different thing, hence the name.)
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from infra import catalog, events, policies, replication
from infra.alerting import alerting
from infra.artifacts import upload_artifacts
from infra.athena import RESULTS_PREFIX, workgroup
from infra.bucket import BucketBaseline, access_log_bucket
from infra.config import StackConfig
from infra.domain import DomainArchive
from infra.job import JobEnvironment
from infra.key import glue_encryption, lakehouse_key
from infra.layer import LANDING_PREFIX, MedallionLayer, MedallionLayerArgs
from infra.naming import Names
from infra.schedule import schedule
from infra.wheel import ARTIFACT_PREFIX, BuiltWheel
from medallion.spec import Domain
from medallion.spec.contract import LAYERS, Layer

#: Each layer's catalog entries, from the declarations.
LAYER_TABLES = {
    Layer.BRONZE: catalog.bronze_tables,
    Layer.SILVER: catalog.silver_tables,
    Layer.GOLD: catalog.gold_tables,
}


@dataclass(frozen=True)
class LakehouseStackArgs:
    """The validated stack config, the table declarations and the built package."""

    config: StackConfig
    domain: Domain
    package: BuiltWheel
    #: The same declarations as a zip the jobs load at start (``--domain-root``).
    domain_archive: DomainArchive


class LakehouseStack(pulumi.ComponentResource):
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
        self, name: str, args: LakehouseStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # The type token predates the class's name; it stays, so that existing stacks keep
        # their resources' URNs.
        super().__init__("medallion:index:Lakehouse", name, None, opts)
        cfg = args.config
        names = Names(name)
        ctx = _aws_context(self)
        child = pulumi.ResourceOptions(parent=self)

        key = lakehouse_key(
            name,
            names,
            cfg.protection,
            ctx,
            self,
            extra_statements=replication.key_policy_statements(cfg.ingestion, ctx),
        )
        unlogged = BucketBaseline(
            kms_key_arn=key.arn,
            noncurrent_version_days=cfg.retention.noncurrent_version_days,
            access_log_bucket=None,
            force_destroy=cfg.protection.force_destroy,
            protect=cfg.protection.protect,
        )
        access_logs = access_log_bucket(
            f"{name}-access-logs",
            names.bucket("access-logs", ctx.account_id, ctx.region),
            unlogged,
            cfg.retention.access_log_days,
            ctx,
            child,
        )
        baseline = replace(unlogged, access_log_bucket=access_logs.bucket_name)
        artifacts = upload_artifacts(
            name,
            names.bucket("artifacts", ctx.account_id, ctx.region),
            baseline,
            args.package,
            args.domain_archive,
            scratch=((RESULTS_PREFIX, cfg.retention.athena_result_days),),
            parent=self,
        )
        environment = JobEnvironment(
            script_uri=artifacts.script_uri,
            wheel_uri=artifacts.wheel_uri,
            domain_uri=artifacts.domain_uri,
            artifacts_bucket_arn=artifacts.bucket.arn,
            artifacts_prefix=f"{ARTIFACT_PREFIX}/",
            aws_context=ctx,
            kms_key_arn=key.arn,
            security_configuration=glue_encryption(name, names, key, self).name,
            sizing=cfg.jobs,
            log_retention_days=cfg.retention.log_days,
        )

        self.layers: dict[Layer, MedallionLayer] = {}
        upstream: MedallionLayer | None = None
        for layer in LAYERS:
            upstream = self.layers[layer] = MedallionLayer(
                f"{name}-{layer}",
                MedallionLayerArgs(
                    layer=layer,
                    names=names,
                    tables=LAYER_TABLES[layer](args.domain),
                    baseline=baseline,
                    environment=environment,
                    upstream=upstream.storage if upstream else None,
                    options=_layer_options(cfg, layer),
                ),
                child,
            )

        jobs = {layer: built.job_name for layer, built in self.layers.items()}
        # With event-driven runs, events.LandingTrigger starts the workflow instead of a schedule.
        workflows = schedule(
            name,
            names,
            cfg.schedule,
            jobs,
            self,
            scheduled_start=not cfg.ingestion.trigger.on_events,
        )
        topic = alerting(
            name,
            [names.job(layer) for layer in LAYERS],
            key.arn,
            cfg.alert_email,
            self,
            extra_statements=lambda arn: replication.alert_topic_statements(
                cfg.ingestion, arn, ctx
            ),
        )
        bronze = self.layers[Layer.BRONZE]
        # Runs started by landed files, and DMS replication of each source (infra/sources.py).
        if cfg.ingestion.trigger.on_events:
            events.LandingTrigger(
                f"{name}-landing-trigger",
                events.LandingTriggerArgs(
                    workflow_name=workflows.daily.name,
                    first_job_name=bronze.job_name,
                    bucket_name=bronze.bucket_name,
                    prefixes=events.landing_prefixes(args.domain),
                    trigger=cfg.ingestion.trigger,
                    aws_context=ctx,
                    safety_schedule=cfg.schedule.expression if cfg.schedule.enabled else None,
                ),
                child,
            )
        self.replications = {
            source.name: replication.SourceReplication(
                replication.component_name(name, source),
                replication.SourceReplicationArgs(
                    source=source,
                    domain=args.domain,
                    capacity=cfg.ingestion.capacity(source),
                    multi_az=cfg.ingestion.replication.multi_az,
                    landing_bucket_name=bronze.bucket_name,
                    landing_bucket_arn=bronze.bucket_arn,
                    kms_key_arn=key.arn,
                    alert_topic_arn=topic.arn,
                    aws_context=ctx,
                    protect=cfg.protection.protect,
                ),
                child,
            )
            for source in cfg.ingestion.sources
        }
        athena = workgroup(
            name,
            names,
            artifacts.bucket.uri(RESULTS_PREFIX),
            key.arn,
            cfg.protection.force_destroy,
            self,
        )

        self.bucket_names = pulumi.Output.all(
            **{layer.value: built.bucket_name for layer, built in self.layers.items()},
            artifacts=artifacts.bucket.bucket_name,
            access_logs=access_logs.bucket_name,
        )
        self.landing_uri = pulumi.Output.concat(
            "s3://", self.layers[Layer.BRONZE].bucket_name, "/", LANDING_PREFIX.rstrip("/")
        )
        self.database_names = pulumi.Output.all(
            **{layer.value: built.database_name for layer, built in self.layers.items()}
        )
        self.job_names = pulumi.Output.all(**{layer.value: job for layer, job in jobs.items()})
        self.workflow_name = workflows.daily.name
        self.maintenance_workflow_name = workflows.maintenance.name
        self.athena_workgroup = athena.name
        self.alert_topic_arn = topic.arn
        self.kms_key_arn = key.arn
        self.wheel_uri = artifacts.wheel_uri
        self.domain_uri = artifacts.domain_uri
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


def _layer_options(cfg: StackConfig, layer: Layer) -> dict[str, str]:
    """A layer's own job options: silver's tolerated share of quarantined rows, if set."""
    if layer is Layer.SILVER and cfg.jobs.max_bad_ratio is not None:
        return {"--max-bad-ratio": str(cfg.jobs.max_bad_ratio)}
    return {}


def _aws_context(parent: pulumi.Resource) -> policies.AwsContext:
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    return policies.AwsContext(
        partition=aws.get_partition_output(opts=invoke).partition,
        region=aws.get_region_output(opts=invoke).region,
        account_id=aws.get_caller_identity_output(opts=invoke).account_id,
    )
