"""The artifacts bucket: the ``medallion`` wheel, the Glue entry script and the domain, by
content hash.

Both objects live under ``artifacts/medallion/<sha256 of the wheel>/``, so a code change is a
new key and moves every job to it; an unchanged package leaves the stack unchanged. The domain's
zip lives under the hash of its own files (``infra.domain``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.bucket import BucketBaseline, SecureBucket
from infra.domain import DomainArchive
from infra.wheel import BuiltWheel


@dataclass(frozen=True)
class Artifacts:
    """The bucket and the S3 URIs the jobs run from."""

    bucket: SecureBucket
    wheel_uri: pulumi.Output[str]
    script_uri: pulumi.Output[str]
    #: The domain's declarations as a zip (``--domain-root`` of every job).
    domain_uri: pulumi.Output[str]


def upload_artifacts(
    name: str,
    bucket_name: pulumi.Input[str],
    baseline: BucketBaseline,
    package: BuiltWheel,
    domain: DomainArchive,
    scratch: tuple[tuple[str, int], ...],
    parent: pulumi.Resource,
) -> Artifacts:
    """The artifacts bucket (``scratch``: prefixes whose objects expire) and the uploads."""
    child = pulumi.ResourceOptions(parent=parent)
    bucket = SecureBucket(
        f"{name}-artifacts", baseline.bucket(bucket_name, expiring_prefixes=scratch), child
    )
    wheel = aws.s3.BucketObjectv2(
        f"{name}-wheel",
        bucket=bucket.bucket_name,
        key=package.key,
        source=pulumi.FileAsset(str(package.path)),
        content_type="application/zip",
        opts=child,
    )
    script = aws.s3.BucketObjectv2(
        f"{name}-glue-script",
        bucket=bucket.bucket_name,
        key=package.script_key,
        source=pulumi.FileAsset(str(package.script_path)),
        content_type="text/x-python",
        opts=child,
    )
    archive = aws.s3.BucketObjectv2(
        f"{name}-domain",
        bucket=bucket.bucket_name,
        key=domain.key,
        source=pulumi.FileAsset(str(domain.path)),
        content_type="application/zip",
        opts=child,
    )
    return Artifacts(
        bucket=bucket,
        wheel_uri=pulumi.Output.concat("s3://", wheel.bucket, "/", wheel.key),
        script_uri=pulumi.Output.concat("s3://", script.bucket, "/", script.key),
        domain_uri=pulumi.Output.concat("s3://", archive.bucket, "/", archive.key),
    )
