"""The lakehouse key and the Glue security configuration that encrypts with it.

One KMS key (rotated) encrypts every bucket, log group, the alert topic, job bookmarks and
Athena results. The account administers it (IAM policies grant its use); services get what they
need to encrypt for the lakehouse: CloudWatch Logs, S3 access-log delivery, EventBridge.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.config import ProtectionConfig
from infra.naming import Names


def lakehouse_key(
    name: str,
    names: Names,
    protection: ProtectionConfig,
    aws_context: policies.AwsContext,
    parent: pulumi.Resource,
    *,
    extra_statements: Sequence[policies.Statement] = (),
) -> aws.kms.Key:
    """The rotated key and its alias ``alias/<base>``; ``extra_statements`` let other services
    of the stack (DMS) encrypt with it."""
    key = aws.kms.Key(
        f"{name}-key",
        description=f"Encrypts the {name} lakehouse: data, logs, alerts, query results",
        enable_key_rotation=True,
        deletion_window_in_days=protection.kms_deletion_window_days,
        policy=policies.document([*key_policy(aws_context), *extra_statements]),
        opts=pulumi.ResourceOptions(parent=parent, protect=protection.protect),
    )
    aws.kms.Alias(
        f"{name}-key-alias",
        name=names.key_alias,
        target_key_id=key.key_id,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return key


def glue_encryption(
    name: str, names: Names, key: aws.kms.Key, parent: pulumi.Resource
) -> aws.glue.SecurityConfiguration:
    """What every job runs with: its S3 writes, logs and bookmarks encrypted with the key."""
    return aws.glue.SecurityConfiguration(
        f"{name}-glue-security",
        name=names.security_configuration,
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
        opts=pulumi.ResourceOptions(parent=parent),
    )


def key_policy(ctx: policies.AwsContext) -> list[policies.Statement]:
    """The account administers the key; CloudWatch Logs, S3 log delivery and EventBridge
    encrypt with it for this account only."""
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
