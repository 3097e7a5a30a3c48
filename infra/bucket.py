"""``SecureBucket``: an S3 bucket with the lakehouse's security baseline, and grant helpers.

Baseline (every bucket): SSE-KMS with the lakehouse key and a bucket key, all four public
access blocks, a policy that denies plain HTTP, versioning, noncurrent versions expired after a
fixed number of days (never before Delta's VACUUM retention), incomplete multipart uploads
aborted, access logs to the log bucket (except the log bucket itself), and no lifecycle rule
that moves or expires live data outside the declared scratch prefixes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import policies

#: Days after which an unfinished multipart upload is aborted (its parts cost storage).
ABORT_MULTIPART_DAYS = 7
#: Where a bucket's server access logs go in the log bucket: ``s3-access/<bucket name>/``.
ACCESS_LOG_PREFIX = "s3-access/"


@dataclass(frozen=True)
class SecureBucketArgs:
    """How one bucket differs from the baseline."""

    #: Physical bucket name (deterministic, so job arguments can name it up front).
    bucket_name: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    noncurrent_version_days: int
    #: The bucket receiving this bucket's access logs; ``None`` only for the log bucket itself.
    access_log_bucket: pulumi.Input[str] | None
    #: ``(prefix, days)`` whose current objects expire: scratch data, never tables.
    #: ``""`` expires the whole bucket (the log bucket's logs).
    expiring_prefixes: tuple[tuple[str, int], ...] = ()
    #: Extra bucket-policy statements (e.g. letting S3 deliver access logs).
    extra_policy_statements: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    force_destroy: bool = False
    protect: bool = False


@dataclass(frozen=True)
class BucketBaseline:
    """What every bucket of one lakehouse shares: its key, retention and protection."""

    kms_key_arn: pulumi.Input[str]
    noncurrent_version_days: int
    #: The log bucket; every other bucket sends its access logs there.
    access_log_bucket: pulumi.Input[str] | None
    force_destroy: bool = False
    protect: bool = False

    def bucket(
        self,
        bucket_name: pulumi.Input[str],
        *,
        logged: bool = True,
        expiring_prefixes: tuple[tuple[str, int], ...] = (),
        extra_policy_statements: Sequence[Mapping[str, Any]] = (),
    ) -> SecureBucketArgs:
        """One bucket of the baseline; ``logged=False`` only for the log bucket itself."""
        return SecureBucketArgs(
            bucket_name=bucket_name,
            kms_key_arn=self.kms_key_arn,
            noncurrent_version_days=self.noncurrent_version_days,
            access_log_bucket=self.access_log_bucket if logged else None,
            expiring_prefixes=expiring_prefixes,
            extra_policy_statements=extra_policy_statements,
            force_destroy=self.force_destroy,
            protect=self.protect,
        )


class SecureBucket(pulumi.ComponentResource):
    """A bucket with versioning, SSE-KMS, public access blocked, TLS-only policy, lifecycle."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medallion:index:SecureBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=args.bucket_name,
            force_destroy=args.force_destroy,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=bucket.id,
            policy=policies.document(
                [policies.deny_insecure_transport(bucket.arn), *args.extra_policy_statements]
            ),
            # S3 rejects concurrent policy and public-access-block changes on one bucket.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=_lifecycle_rules(args),
            # Noncurrent-version rules need versioning to be on first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]),
        )
        if args.access_log_bucket is not None:
            aws.s3.BucketLogging(
                f"{name}-logging",
                bucket=bucket.id,
                target_bucket=args.access_log_bucket,
                target_prefix=pulumi.Output.concat(ACCESS_LOG_PREFIX, bucket.bucket, "/"),
                opts=child,
            )

        self.bucket_name = bucket.bucket
        self.arn = bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})

    def uri(self, prefix: str = "") -> pulumi.Output[str]:
        """``s3://<bucket>/<prefix>``."""
        return pulumi.Output.concat("s3://", self.bucket_name, "/", prefix)

    def grant_read(self, sid: str, prefix: str) -> list[policies.Statement]:
        """Statements letting a role list and read the objects below ``prefix``."""
        return policies.s3_read(sid, self.arn, prefix)

    def grant_read_write(self, sid: str, prefix: str) -> list[policies.Statement]:
        """Statements letting a role read, write and delete the objects below ``prefix``."""
        return [*policies.s3_read(sid, self.arn, prefix), *policies.s3_write(sid, self.arn, prefix)]


def _lifecycle_rules(
    args: SecureBucketArgs,
) -> list[aws.s3.BucketLifecycleConfigurationRuleArgsDict]:
    rules: list[aws.s3.BucketLifecycleConfigurationRuleArgsDict] = [
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_days},
            # Clears the delete markers left once every older version has expired.
            "expiration": {"expired_object_delete_marker": True},
        },
        {
            "id": "abort-incomplete-multipart-uploads",
            "status": "Enabled",
            "filter": {},
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_DAYS},
        },
    ]
    for prefix, days in args.expiring_prefixes:
        rules.append(
            {
                "id": f"expire-{prefix.strip('/').replace('/', '-') or 'all'}",
                "status": "Enabled",
                "filter": {"prefix": prefix},
                "expiration": {"days": days},
            }
        )
    return rules


def access_log_bucket(
    name: str,
    bucket_name: pulumi.Input[str],
    baseline: BucketBaseline,
    retention_days: int,
    aws_context: policies.AwsContext,
    opts: pulumi.ResourceOptions,
) -> SecureBucket:
    """The bucket receiving every other bucket's access logs.

    It logs nowhere (logging it into itself would loop) and its logs expire.
    """
    return SecureBucket(
        name,
        baseline.bucket(
            bucket_name,
            logged=False,
            expiring_prefixes=(("", retention_days),),
            extra_policy_statements=(_access_log_delivery(bucket_name, aws_context),),
        ),
        opts,
    )


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
            "arn:", ctx.partition, ":s3:::", bucket_name, "/", ACCESS_LOG_PREFIX, "*"
        ),
        "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
    }
