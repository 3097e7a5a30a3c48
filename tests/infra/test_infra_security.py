"""The security baseline, one test per rule (checkov id where one exists), over every resource
of its kind in both stacks. docs/infrastructure.md lists how each test was seen to fail."""

from __future__ import annotations

import json

import pytest
from stackrun import (
    BUCKET,
    BUCKET_POLICY,
    ENCRYPTION,
    JOB,
    KMS_KEY,
    LIFECYCLE,
    LOG_GROUP,
    LOGGING,
    PUBLIC_ACCESS,
    SECURITY_CONFIGURATION,
    TOPIC,
    VERSIONING,
    WORKGROUP,
    StackRun,
    as_list,
    is_allowed,
    statements,
)

from infra.config import StackConfig

EXPECTED_BUCKETS = 5  # bronze, silver, gold, artifacts, access logs


def buckets(stack: StackRun) -> list[str]:
    names = [b["bucket"] for b in stack.of_type(BUCKET)]
    assert len(names) == EXPECTED_BUCKETS, names
    return names


def only(stack: StackRun, type_: str, bucket: str) -> dict:
    found = stack.for_bucket(type_, bucket)
    assert len(found) == 1, f"{bucket}: expected one {type_.rsplit(':', 1)[-1]}, got {len(found)}"
    return dict(found[0].inputs)


# --- S3 ---------------------------------------------------------------------------------------


def test_CKV_AWS_145_bucket_encrypted_with_kms(stack: StackRun) -> None:
    for bucket in buckets(stack):
        (rule,) = only(stack, ENCRYPTION, bucket)["rules"]
        default = rule["applyServerSideEncryptionByDefault"]
        assert default["sseAlgorithm"] == "aws:kms", bucket
        assert default["kmsMasterKeyId"] == stack.key_arn, bucket


def test_bucket_key_enabled_on_every_bucket(stack: StackRun) -> None:
    for bucket in buckets(stack):
        assert all(
            r.get("bucketKeyEnabled") is True for r in only(stack, ENCRYPTION, bucket)["rules"]
        ), bucket


def test_CKV_AWS_21_bucket_versioning_enabled(stack: StackRun) -> None:
    for bucket in buckets(stack):
        config = only(stack, VERSIONING, bucket)["versioningConfiguration"]
        assert config["status"] == "Enabled", bucket


def test_CKV2_AWS_6_bucket_has_public_access_block(stack: StackRun) -> None:
    for bucket in buckets(stack):
        only(stack, PUBLIC_ACCESS, bucket)


@pytest.mark.parametrize(
    "setting",
    [
        pytest.param("blockPublicAcls", id="CKV_AWS_53"),
        pytest.param("blockPublicPolicy", id="CKV_AWS_54"),
        pytest.param("ignorePublicAcls", id="CKV_AWS_55"),
        pytest.param("restrictPublicBuckets", id="CKV_AWS_56"),
    ],
)
def test_CKV_AWS_53_to_56_public_access_blocks_all_on(stack: StackRun, setting: str) -> None:
    for bucket in buckets(stack):
        assert only(stack, PUBLIC_ACCESS, bucket).get(setting) is True, f"{bucket}: {setting}"


def test_S3_5_bucket_policy_denies_insecure_transport(stack: StackRun) -> None:
    """Security Hub S3.5: plain-HTTP requests are denied on the bucket and every object, and
    only those (TLS requests are left to IAM)."""

    def denied_for_anyone(policy: dict, action: str, resource: str, secure: str) -> bool:
        return any(
            s["Effect"] == "Deny"
            and s.get("Principal") in ("*", {"AWS": "*"})
            and is_allowed(
                {"Statement": [{**s, "Effect": "Allow"}]},
                action,
                resource,
                {"aws:SecureTransport": secure},
            )
            for s in statements(policy)
        )

    for bucket in buckets(stack):
        policy = json.loads(only(stack, BUCKET_POLICY, bucket)["policy"])
        arn = f"arn:aws:s3:::{bucket}"
        for resource in (arn, f"{arn}/tables/t/part-0.parquet"):
            for action in ("s3:GetObject", "s3:PutObject", "s3:ListBucket"):
                where = f"{bucket}: {action} on {resource}"
                assert denied_for_anyone(policy, action, resource, "false"), f"{where} over HTTP"
                assert not denied_for_anyone(policy, action, resource, "true"), f"{where} over TLS"


def test_CKV_AWS_18_bucket_access_logging_enabled(stack: StackRun) -> None:
    """Every bucket logs to the log bucket, which alone does not log (into itself it would loop)."""
    log_bucket = stack.bucket_names["access_logs"]
    for bucket in buckets(stack):
        if bucket == log_bucket:
            assert stack.for_bucket(LOGGING, bucket) == [], (
                "the log bucket must not log into itself"
            )
            continue
        logging = only(stack, LOGGING, bucket)
        assert logging["targetBucket"] == log_bucket, bucket
        assert logging["targetPrefix"] == f"s3-access/{bucket}/", bucket


def test_CKV2_AWS_61_bucket_has_lifecycle_configuration(stack: StackRun) -> None:
    for bucket in buckets(stack):
        assert only(stack, LIFECYCLE, bucket)["rules"], bucket


def test_CKV_AWS_300_lifecycle_aborts_incomplete_multipart_uploads(stack: StackRun) -> None:
    for bucket in buckets(stack):
        rules = only(stack, LIFECYCLE, bucket)["rules"]
        aborting = [
            r for r in rules
            if r["status"] == "Enabled" and r.get("abortIncompleteMultipartUpload")
            and not (r.get("filter") or {}).get("prefix")
        ]  # fmt: skip
        assert aborting, f"{bucket}: no bucket-wide rule aborts incomplete multipart uploads"


def test_noncurrent_versions_expire_no_sooner_than_delta_retention(
    stack: StackRun, configs: dict[str, StackConfig]
) -> None:
    """What VACUUM deletes stays recoverable for the retention window, then goes."""
    config = configs[stack.stack]
    for bucket in buckets(stack):
        rules = only(stack, LIFECYCLE, bucket)["rules"]
        days = [
            r["noncurrentVersionExpiration"]["noncurrentDays"]
            for r in rules
            if r["status"] == "Enabled" and r.get("noncurrentVersionExpiration")
            and not (r.get("filter") or {}).get("prefix")
        ]  # fmt: skip
        assert days == [config.retention.noncurrent_version_days], bucket
        assert days[0] * 24 >= config.schedule.retention_hours, bucket


def test_no_lifecycle_rule_archives_or_expires_live_data(stack: StackRun) -> None:
    """No transition anywhere (archived objects break live Delta tables); current objects
    expire only in scratch places: Athena results, and the access-log bucket's logs."""
    scratch = {
        (stack.bucket_names["artifacts"], "athena-results/"),
        (stack.bucket_names["access_logs"], ""),
    }
    for bucket in buckets(stack):
        for rule in only(stack, LIFECYCLE, bucket)["rules"]:
            name = f"{bucket}: rule {rule.get('id')}"
            assert not rule.get("transitions"), f"{name} transitions current objects"
            assert not rule.get("noncurrentVersionTransitions"), f"{name} archives old versions"
            expiration = rule.get("expiration") or {}
            if expiration.get("days") or expiration.get("date"):
                prefix = (rule.get("filter") or {}).get("prefix", "")
                assert (bucket, prefix) in scratch, f"{name} expires live data below {prefix!r}"


# --- KMS, logs, alerts --------------------------------------------------------------------------


def test_CKV_AWS_7_kms_key_rotation_enabled(stack: StackRun) -> None:
    keys = stack.of_type(KMS_KEY)
    assert keys
    for key in keys:
        assert key.get("enableKeyRotation") is True, key.name


def test_CKV_AWS_33_kms_key_policy_has_no_wildcard_principal(stack: StackRun) -> None:
    for key in stack.of_type(KMS_KEY):
        for statement in statements(json.loads(key["policy"])):
            principal = statement.get("Principal")
            values = principal.values() if isinstance(principal, dict) else [principal]
            flat = [v for value in values for v in as_list(value)]
            assert "*" not in flat, f"{key.name}: statement {statement.get('Sid')} allows anyone"


def test_CKV_AWS_158_log_groups_encrypted_with_kms(stack: StackRun) -> None:
    groups = stack.of_type(LOG_GROUP)
    assert len(groups) == 6  # error + output for each of the three layer jobs
    for group in groups:
        assert group.get("kmsKeyId") == stack.key_arn, group["name"]


def test_CKV_AWS_66_log_groups_have_retention(stack: StackRun) -> None:
    for group in stack.of_type(LOG_GROUP):
        assert group.get("retentionInDays"), group["name"]


def test_CKV_AWS_338_prod_log_groups_keep_a_year(prod: StackRun) -> None:
    for group in prod.of_type(LOG_GROUP):
        assert group["retentionInDays"] >= 365, group["name"]


def test_CKV_AWS_26_sns_topic_encrypted(stack: StackRun) -> None:
    topics = stack.of_type(TOPIC)
    assert topics
    for topic in topics:
        assert topic.get("kmsMasterKeyId") == stack.key_arn, topic.name


# --- Glue and Athena ----------------------------------------------------------------------------


def test_CKV_AWS_99_glue_security_configuration_encrypts_everything(stack: StackRun) -> None:
    for config in stack.of_type(SECURITY_CONFIGURATION):
        encryption = config["encryptionConfiguration"]
        cloudwatch = encryption["cloudwatchEncryption"]
        bookmarks = encryption["jobBookmarksEncryption"]
        s3 = encryption["s3Encryption"]
        assert cloudwatch["cloudwatchEncryptionMode"] == "SSE-KMS"
        assert bookmarks["jobBookmarksEncryptionMode"] == "CSE-KMS"
        assert s3["s3EncryptionMode"] == "SSE-KMS"
        for part in (cloudwatch, bookmarks, s3):
            assert part["kmsKeyArn"] == stack.key_arn


def test_CKV_AWS_195_glue_jobs_use_security_configuration(stack: StackRun) -> None:
    names = {c["name"] for c in stack.of_type(SECURITY_CONFIGURATION)}
    jobs = stack.of_type(JOB)
    assert len(jobs) == 3
    for job in jobs:
        assert job.get("securityConfiguration") in names, job["name"]


def test_CKV_AWS_82_athena_workgroup_enforces_configuration(stack: StackRun) -> None:
    for workgroup in stack.of_type(WORKGROUP):
        assert workgroup["configuration"]["enforceWorkgroupConfiguration"] is True


def test_CKV_AWS_159_athena_workgroup_results_encrypted(stack: StackRun) -> None:
    for workgroup in stack.of_type(WORKGROUP):
        results = workgroup["configuration"]["resultConfiguration"]
        assert results["encryptionConfiguration"] == {
            "encryptionOption": "SSE_KMS",
            "kmsKeyArn": stack.key_arn,
        }
        artifacts = stack.bucket_names["artifacts"]
        assert results["outputLocation"] == f"s3://{artifacts}/athena-results/"
