"""IAM statement builders: the smallest grants a medallion job needs, named by what they allow.

Every builder returns plain statement dicts whose values may be ``Output``s; ``document()``
turns them into the JSON a policy takes. Actions are always spelled out (never ``*`` or
``s3:Get*``); the only ``"Resource": "*"`` is for ``cloudwatch:PutMetricData``, which has no
resource-level permissions, and it is pinned to the ``Glue`` namespace by a condition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

Statement = dict[str, Any]

POLICY_VERSION = "2012-10-17"
S3_READ_ACTIONS = ("s3:GetObject",)
S3_WRITE_ACTIONS = ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload")
S3_BUCKET_READ_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation")
KMS_USE_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")
LOG_WRITE_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:AssociateKmsKey",
)
#: What a job does to its own database after writing a Delta table (register / refresh it).
CATALOG_REGISTER_ACTIONS = (
    "glue:GetDatabase",
    "glue:GetTable",
    "glue:GetTables",
    "glue:CreateTable",
    "glue:UpdateTable",
)
METRIC_NAMESPACE = "Glue"


@dataclass(frozen=True)
class AwsContext:
    """Partition, region and account of the stack, for building ARNs."""

    partition: pulumi.Input[str]
    region: pulumi.Input[str]
    account_id: pulumi.Input[str]

    def arn(self, service: str, resource: str) -> pulumi.Output[str]:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
        return pulumi.Output.concat(
            "arn:", self.partition, ":", service, ":", self.region, ":", self.account_id, ":",
            resource,
        )  # fmt: skip

    def log_group_arn(self, name_pattern: str) -> pulumi.Output[str]:
        return self.arn("logs", f"log-group:{name_pattern}")

    def glue_catalog_arns(self, database: str) -> list[pulumi.Output[str]]:
        """The catalog, one database and its tables: what a table registration touches."""
        return [
            self.arn("glue", "catalog"),
            self.arn("glue", f"database/{database}"),
            self.arn("glue", f"table/{database}/*"),
        ]


def document(statements: Iterable[Mapping[str, Any]]) -> pulumi.Output[str]:
    """A policy document (JSON) from statements that may hold ``Output`` values."""
    return pulumi.Output.json_dumps({"Version": POLICY_VERSION, "Statement": list(statements)})


def s3_read(sid: str, bucket_arn: pulumi.Input[str], prefix: str) -> list[Statement]:
    """List and read the objects below ``prefix`` (e.g. ``tables/``) of one bucket."""
    return [
        {
            "Sid": f"{sid}List",
            "Effect": "Allow",
            "Action": list(S3_BUCKET_READ_ACTIONS),
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [prefix.rstrip("/"), f"{prefix}*"]}},
        },
        {
            "Sid": f"{sid}Read",
            "Effect": "Allow",
            "Action": list(S3_READ_ACTIONS),
            "Resource": pulumi.Output.concat(bucket_arn, "/", prefix, "*"),
        },
    ]


def s3_write(sid: str, bucket_arn: pulumi.Input[str], prefix: str) -> list[Statement]:
    """Create, replace and delete the objects below ``prefix`` of one bucket."""
    return [
        {
            "Sid": f"{sid}Write",
            "Effect": "Allow",
            "Action": list(S3_WRITE_ACTIONS),
            "Resource": pulumi.Output.concat(bucket_arn, "/", prefix, "*"),
        }
    ]


def s3_delete(sid: str, bucket_arn: pulumi.Input[str], prefix: str) -> list[Statement]:
    """Delete (but not write) the objects below ``prefix``: moving a file away from it."""
    return [
        {
            "Sid": f"{sid}Delete",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject"],
            "Resource": pulumi.Output.concat(bucket_arn, "/", prefix, "*"),
        }
    ]


def kms_use(key_arn: pulumi.Input[str]) -> list[Statement]:
    """Encrypt and decrypt with the lakehouse key (S3 objects, logs, job bookmarks)."""
    return [
        {
            "Sid": "UseLakehouseKey",
            "Effect": "Allow",
            "Action": list(KMS_USE_ACTIONS),
            "Resource": key_arn,
        }
    ]


def logs_write(aws: AwsContext, log_group_prefix: str) -> list[Statement]:
    """Write to the job's own log groups only.

    Glue 5 writes ``<prefix>/error`` and ``<prefix>/output``; the pattern is ``<prefix>*`` so a
    name Glue derives from the prefix (with a security configuration it may append the role and
    configuration names) stays covered, while another job's prefix never matches.
    """
    return [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": list(LOG_WRITE_ACTIONS),
            "Resource": [
                aws.log_group_arn(f"{log_group_prefix}*"),
                aws.log_group_arn(f"{log_group_prefix}*:log-stream:*"),
            ],
        }
    ]


def metrics_put() -> list[Statement]:
    """Publish job metrics; PutMetricData has no resource ARNs, so a condition scopes it."""
    return [
        {
            "Sid": "PublishGlueMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
        }
    ]


def catalog_register(aws: AwsContext, database: str) -> list[Statement]:
    """Register and refresh Delta tables in the job's own database; ``default`` read-only.

    Spark's catalog client looks up the ``default`` database when a session starts.
    """
    return [
        {
            "Sid": "RegisterOwnTables",
            "Effect": "Allow",
            "Action": list(CATALOG_REGISTER_ACTIONS),
            "Resource": aws.glue_catalog_arns(database),
        },
        {
            "Sid": "ReadDefaultDatabase",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase"],
            "Resource": [aws.arn("glue", "catalog"), aws.arn("glue", "database/default")],
        },
    ]


def glue_assume_role() -> str:
    """Trust policy: only the Glue service assumes a job role."""
    return json.dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "glue.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> Statement:
    """The TLS-only rule every bucket policy starts with."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
