"""``TransformJob``: one Glue 5.1 Spark job with its own role, policy and log groups.

Every medallion job runs the same script (``glue_entry.py``) from the same wheel; what differs
is ``--layer`` and the data grants of its role. The weekly maintenance starts the same job with
``--action maintain``, so it runs under the same role.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.config import JobsConfig
from infra.naming import log_group_prefix

GLUE_VERSION = "5.1"
#: Delta Lake on Glue: the session extension and the catalog, in one ``--conf`` value.
DELTA_CONF = (
    "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
    " --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"
)
#: Delta on S3 allows one writing driver per table: never two runs of one job at once.
MAX_CONCURRENT_RUNS = 1
#: The two log groups Glue 5 writes below ``--custom-logGroup-prefix``.
LOG_GROUP_SUFFIXES = ("error", "output")


@dataclass(frozen=True)
class JobEnvironment:
    """What every job of one lakehouse shares: its code, key, account, sizing and log policy."""

    script_uri: pulumi.Input[str]
    wheel_uri: pulumi.Input[str]
    #: The domain's declarations (a zip), loaded by every job at start.
    domain_uri: pulumi.Input[str]
    artifacts_bucket_arn: pulumi.Input[str]
    #: The jobs read their code below this prefix of the artifacts bucket, nothing else there.
    artifacts_prefix: str
    aws_context: policies.AwsContext
    kms_key_arn: pulumi.Input[str]
    security_configuration: pulumi.Input[str]
    sizing: JobsConfig
    log_retention_days: int


@dataclass(frozen=True)
class TransformJobArgs:
    """One job: its name, step, arguments and the data its role may touch."""

    job_name: str
    #: ``--layer``: bronze, silver or gold.
    layer: str
    environment: JobEnvironment
    #: ``--key value`` arguments besides ``--layer`` (roots, database names, options).
    arguments: Mapping[str, pulumi.Input[str]]
    #: The job's data grants (buckets, catalog); KMS, logs, metrics and code are added here.
    data_statements: Sequence[Mapping[str, Any]]
    description: str = ""
    #: Resources the job needs before its first run (its catalog database).
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class TransformJob(pulumi.ComponentResource):
    """A Glue job, the role it runs as (least privilege), its policy and its log groups."""

    job_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    log_group_names: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: TransformJobArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medallion:index:TransformJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        env = args.environment
        log_prefix = log_group_prefix(args.job_name)

        log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-logs-{suffix}",
                name=f"{log_prefix}/{suffix}",
                retention_in_days=env.log_retention_days,
                kms_key_id=env.kms_key_arn,
                opts=child,
            )
            for suffix in LOG_GROUP_SUFFIXES
        ]
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=policies.glue_assume_role(),
            description=f"Runs the Glue job {args.job_name}",
            opts=child,
        )
        statements = [
            *args.data_statements,
            {
                "Sid": "ReadJobCode",
                "Effect": "Allow",
                "Action": list(policies.S3_READ_ACTIONS),
                "Resource": pulumi.Output.concat(
                    env.artifacts_bucket_arn, "/", env.artifacts_prefix, "*"
                ),
            },
            *policies.kms_use(env.kms_key_arn),
            *policies.logs_write(env.aws_context, log_prefix),
            *policies.metrics_put(),
        ]
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policies.document(statements),
            opts=child,
        )
        job = aws.glue.Job(
            f"{name}-job",
            name=args.job_name,
            description=args.description,
            role_arn=role.arn,
            glue_version=GLUE_VERSION,
            command={"name": "glueetl", "script_location": env.script_uri, "python_version": "3"},
            default_arguments=job_arguments(args, log_prefix),
            worker_type=env.sizing.worker_type,
            number_of_workers=env.sizing.number_of_workers,
            execution_class=env.sizing.execution_class,
            timeout=env.sizing.timeout_minutes,
            max_retries=env.sizing.max_retries,
            execution_property={"max_concurrent_runs": MAX_CONCURRENT_RUNS},
            security_configuration=env.security_configuration,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[policy, *log_groups, *args.depends_on]
            ),
        )

        self.job_name = job.name
        self.role_arn = role.arn
        self.role_name = role.name
        self.log_group_names = pulumi.Output.all(*(group.name for group in log_groups))
        self.register_outputs(
            {
                "job_name": self.job_name,
                "role_arn": self.role_arn,
                "role_name": self.role_name,
                "log_group_names": self.log_group_names,
            }
        )


def job_arguments(args: TransformJobArgs, log_prefix: str) -> dict[str, pulumi.Input[str]]:
    """Glue's own switches, then the medallion arguments (the entry point's contract)."""
    glue: dict[str, pulumi.Input[str]] = {
        "--job-language": "python",
        "--datalake-formats": "delta",
        "--conf": DELTA_CONF,
        "--additional-python-modules": args.environment.wheel_uri,
        "--enable-auto-scaling": "true",
        "--enable-metrics": "true",
        "--enable-observability-metrics": "true",
        "--enable-continuous-cloudwatch-log": "true",
        "--custom-logGroup-prefix": log_prefix,
        "--job-bookmark-option": "job-bookmark-disable",
        # Every job registers the tables it writes in its layer's database.
        "--enable-glue-datacatalog": "true",
    }
    return {**glue, "--layer": args.layer, **args.arguments}
