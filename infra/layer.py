"""``MedallionLayer``: one layer's bucket, catalog database, Delta tables and transform job.

The job's role reads the layer upstream (``tables/`` of the upstream bucket; bronze reads its
own ``landing/``) and writes its own ``tables/`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.bucket import SecureBucket, SecureBucketArgs
from infra.catalog import DeltaTableSpec
from infra.job import TransformJob, TransformJobArgs
from medallion.spec.contract import (
    DELTA_PARAMETERS,
    LANDING,
    PARQUET_INPUT_FORMAT,
    PARQUET_OUTPUT_FORMAT,
    PARQUET_SERDE,
    REJECTED_DIR,
    TABLE_TYPE,
)

#: Every layer keeps its Delta tables below this prefix of its bucket.
TABLES_PREFIX = "tables/"
#: Bronze's bucket also holds the landing zone, and malformed files are moved below it.
LANDING_PREFIX = f"{LANDING}/"
REJECTED_PREFIX = f"{LANDING}/{REJECTED_DIR}/"


@dataclass(frozen=True)
class MedallionLayerArgs:
    """A layer: its storage, its catalog entries and how its job is built."""

    layer: str
    storage: SecureBucketArgs
    database_name: str
    tables: tuple[DeltaTableSpec, ...]
    #: The job, minus the data grants and the catalog, which the layer adds itself.
    job: TransformJobArgs
    #: The bucket the job reads (``tables/``); ``None`` for bronze, which reads ``landing/``.
    upstream: SecureBucket | None = None
    protect: bool = False


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
        self.storage = SecureBucket(
            f"{name}-storage", args.storage, pulumi.ResourceOptions(parent=self)
        )
        tables_uri = self.storage.uri(TABLES_PREFIX)
        database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=args.database_name,
            description=f"Delta tables of the {args.layer} layer",
            location_uri=tables_uri,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        for table in args.tables:
            _delta_table(f"{name}-table-{table.name}", database, table, tables_uri, self)

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
        grants += policies.catalog_register(args.job.aws_context, args.database_name)

        job_args = replace(
            args.job,
            data_statements=[*grants, *args.job.data_statements],
            use_catalog=True,
            extra_depends_on=[database, *args.job.extra_depends_on],
        )
        self.job = TransformJob(f"{name}-transform", job_args, pulumi.ResourceOptions(parent=self))

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
