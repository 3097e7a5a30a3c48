"""``MedallionLayer``: one layer's bucket, catalog database, Delta tables and transform job.

The job's role reads the layer upstream (``tables/`` of the upstream bucket; bronze reads its
own ``landing/``) and writes its own ``tables/`` only. The weekly maintenance runs the same job
(``--action maintain``), so no role ever writes two layers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.bucket import BucketBaseline, SecureBucket
from infra.catalog import DeltaTableSpec
from infra.job import JobEnvironment, TransformJob, TransformJobArgs
from infra.naming import Names
from medallion.spec.contract import (
    DELTA_PARAMETERS,
    LANDING,
    LAYERS,
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    REJECTED_DIR,
    TABLE_TYPE,
    Layer,
)

#: Every layer keeps its Delta tables below this prefix of its bucket.
TABLES_PREFIX = "tables/"
#: Bronze's bucket also holds the landing zone, and malformed files are moved below it.
LANDING_PREFIX = f"{LANDING}/"
REJECTED_PREFIX = f"{LANDING}/{REJECTED_DIR}/"


@dataclass(frozen=True)
class MedallionLayerArgs:
    """A layer of one lakehouse: its tables, the shared baseline and job environment."""

    layer: Layer
    names: Names
    tables: tuple[DeltaTableSpec, ...]
    baseline: BucketBaseline
    environment: JobEnvironment
    #: The bucket the job reads (``tables/``); ``None`` for bronze, which reads ``landing/``.
    upstream: SecureBucket | None = None
    #: The layer's own job options (silver's ``--max-bad-ratio``).
    options: Mapping[str, str] = field(default_factory=dict)


class MedallionLayer(pulumi.ComponentResource):
    """Bucket + Glue database + native Delta catalog tables + Glue job, role and log groups."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    tables_uri: pulumi.Output[str]
    database_name: pulumi.Output[str]
    job_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    log_group_names: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: MedallionLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medallion:index:MedallionLayer", name, None, opts)
        names, layer, ctx = args.names, args.layer, args.environment.aws_context
        bucket_name = names.bucket(layer, ctx.account_id, ctx.region)
        self.storage = SecureBucket(
            f"{name}-storage",
            args.baseline.bucket(bucket_name),
            pulumi.ResourceOptions(parent=self),
        )
        tables_uri = self.storage.uri(TABLES_PREFIX)
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=names.database(layer),
            description=f"Delta tables of the {layer} layer",
            location_uri=tables_uri,
            opts=pulumi.ResourceOptions(parent=self, protect=args.baseline.protect),
        )
        for table in args.tables:
            _delta_table(f"{name}-table-{table.name}", database, table, tables_uri, self)

        self.job = TransformJob(
            f"{name}-transform",
            TransformJobArgs(
                job_name=names.job(layer),
                layer=layer,
                environment=args.environment,
                arguments={
                    "--domain-root": args.environment.domain_uri,
                    **layout_arguments(names, ctx),
                    **args.options,
                },
                data_statements=self._grants(args),
                description=f"medallion {layer} ({names.base})",
                depends_on=[database],
            ),
            pulumi.ResourceOptions(parent=self),
        )

        self.bucket_name = self.storage.bucket_name
        self.bucket_arn = self.storage.arn
        self.tables_uri = tables_uri
        self.database_name = database.name
        self.job_name = self.job.job_name
        self.role_arn = self.job.role_arn
        self.log_group_names = self.job.log_group_names
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "tables_uri": self.tables_uri,
                "database_name": self.database_name,
                "job_name": self.job_name,
                "role_arn": self.role_arn,
                "log_group_names": self.log_group_names,
            }
        )

    def _grants(self, args: MedallionLayerArgs) -> list[policies.Statement]:
        """Read upstream, write its own tables, register them in its own database."""
        own = self.storage
        grants: list[policies.Statement] = []
        if args.upstream is None:
            # Bronze: read the landing zone, move malformed files below landing/_rejected/.
            grants += own.grant_read("ReadLanding", LANDING_PREFIX)
            grants += policies.s3_delete("MoveLanded", own.arn, LANDING_PREFIX)
            grants += policies.s3_write("RejectLanded", own.arn, REJECTED_PREFIX)
        else:
            grants += args.upstream.grant_read("ReadUpstreamTables", TABLES_PREFIX)
        grants += own.grant_read_write("WriteOwnTables", TABLES_PREFIX)
        grants += policies.catalog_register(
            args.environment.aws_context, args.names.database(args.layer)
        )
        return grants


def layout_arguments(names: Names, ctx: policies.AwsContext) -> dict[str, pulumi.Input[str]]:
    """Where every part of the lakehouse lives, as every job receives it (the entry point's
    ``--landing-root``, ``--<layer>-root`` and ``--<layer>-database``)."""

    def uri(layer: Layer, prefix: str) -> pulumi.Output[str]:
        bucket = names.bucket(layer, ctx.account_id, ctx.region)
        return pulumi.Output.concat("s3://", bucket, "/", prefix.rstrip("/"))

    return {
        "--landing-root": uri(Layer.BRONZE, LANDING_PREFIX),
        **{f"--{layer}-root": uri(layer, TABLES_PREFIX) for layer in LAYERS},
        **{f"--{layer}-database": names.database(layer) for layer in LAYERS},
    }


def _delta_table(
    name: str,
    database: aws.glue.CatalogDatabase,
    table: DeltaTableSpec,
    tables_uri: pulumi.Output[str],
    parent: pulumi.Resource,
) -> aws.glue.CatalogTable:
    """A native Delta table entry, as the jobs themselves register it after a write."""
    location = pulumi.Output.concat(tables_uri, table.name)
    return aws.glue.CatalogTable(
        name,
        name=table.name,
        database_name=database.name,
        description=table.description,
        table_type=TABLE_TYPE,
        parameters=dict(DELTA_PARAMETERS),
        storage_descriptor={
            "location": location,
            "columns": [{"name": column, "type": kind} for column, kind in table.columns],
            "input_format": PARQUET_INPUT_FORMAT,
            "output_format": PARQUET_OUTPUT_FORMAT,
            "ser_de_info": {
                "serialization_library": PARQUET_SERDE,
                "parameters": {"path": location},
            },
        },
        partition_keys=[{"name": column, "type": kind} for column, kind in table.partition_keys],
        # The jobs refresh the schema from the Delta log after each write: the stack owns the
        # entry's existence, type and location, not its columns.
        opts=pulumi.ResourceOptions(
            parent=parent,
            ignore_changes=["storageDescriptor.columns", "partitionKeys", "parameters"],
        ),
    )
