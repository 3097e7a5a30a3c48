"""Break each policy rule on purpose and check that its test fails (and only then passes).

    .venv/bin/python tests/infra/break_rules.py [name-filter]

For every rule below: copy the program and its tests to a temporary folder, apply one small
edit that violates the rule, run the rule's test there, and expect a failure. The working tree
is never touched. Prints one line per rule; exits non-zero if a broken rule still passed.
Slow on purpose (each case runs the mocked stacks): not part of the test suite.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("infra", "medallion", "tests", "__main__.py", "Pulumi.yaml", "pyproject.toml")
SEC = "tests/infra/test_infra_security.py"
IAM = "tests/infra/test_infra_iam.py"
JOBS = "tests/infra/test_infra_jobs.py"


@dataclass(frozen=True)
class Break:
    """One violation: replace ``old`` (found exactly once) by ``new`` in ``path``."""

    test: str  # pytest node id prefix or file::-k expression
    path: str
    old: str
    new: str
    what: str


# fmt: off
BREAKS = (
    Break(f"{SEC}::test_CKV_AWS_145_bucket_encrypted_with_kms", "infra/bucket.py",
          '"sse_algorithm": "aws:kms"', '"sse_algorithm": "AES256"', "SSE-S3 instead of SSE-KMS"),
    Break(f"{SEC}::test_bucket_key_enabled_on_every_bucket", "infra/bucket.py",
          '"bucket_key_enabled": True', '"bucket_key_enabled": False', "bucket key off"),
    Break(f"{SEC}::test_CKV_AWS_21_bucket_versioning_enabled", "infra/bucket.py",
          'versioning_configuration={"status": "Enabled"}',
          'versioning_configuration={"status": "Suspended"}', "versioning suspended"),
    Break(f"{SEC}::test_CKV2_AWS_6_bucket_has_public_access_block", "infra/bucket.py",
          'f"{name}-public-access",\n            bucket=bucket.id,',
          'f"{name}-public-access",\n            bucket="another-bucket",',
          "access block attached to another bucket"),
    Break(f"{SEC}::test_CKV_AWS_53_to_56_public_access_blocks_all_on", "infra/bucket.py",
          "block_public_acls=True", "block_public_acls=False", "CKV_AWS_53: public ACLs allowed"),
    Break(f"{SEC}::test_CKV_AWS_53_to_56_public_access_blocks_all_on", "infra/bucket.py",
          "block_public_policy=True", "block_public_policy=False",
          "CKV_AWS_54: public policy allowed"),
    Break(f"{SEC}::test_CKV_AWS_53_to_56_public_access_blocks_all_on", "infra/bucket.py",
          "ignore_public_acls=True", "ignore_public_acls=False",
          "CKV_AWS_55: public ACLs honoured"),
    Break(f"{SEC}::test_CKV_AWS_53_to_56_public_access_blocks_all_on", "infra/bucket.py",
          "restrict_public_buckets=True", "restrict_public_buckets=False",
          "CKV_AWS_56: public buckets not restricted"),
    Break(f"{SEC}::test_S3_5_bucket_policy_denies_insecure_transport", "infra/policies.py",
          '"aws:SecureTransport": "false"', '"aws:SecureTransport": "true"',
          "deny applies to TLS instead of HTTP"),
    Break(f"{SEC}::test_CKV_AWS_18_bucket_access_logging_enabled", "infra/layer.py",
          "args.baseline.bucket(bucket_name)",
          'args.baseline.bucket(bucket_name, logged=layer != "gold")',
          "gold bucket without access logs"),
    Break(f"{SEC}::test_CKV2_AWS_61_bucket_has_lifecycle_configuration", "infra/bucket.py",
          'f"{name}-lifecycle",\n            bucket=bucket.id,',
          'f"{name}-lifecycle",\n            bucket="another-bucket",',
          "lifecycle attached to another bucket"),
    Break(f"{SEC}::test_CKV_AWS_300_lifecycle_aborts_incomplete_multipart_uploads",
          "infra/bucket.py",
          '"id": "abort-incomplete-multipart-uploads",\n            "status": "Enabled"',
          '"id": "abort-incomplete-multipart-uploads",\n            "status": "Disabled"',
          "abort rule disabled"),
    Break(f"{SEC}::test_noncurrent_versions_expire_no_sooner_than_delta_retention",
          "infra/bucket.py",
          '{"noncurrent_days": args.noncurrent_version_days}', '{"noncurrent_days": 1}',
          "old versions gone after 1 day"),
    Break(f"{SEC}::test_no_lifecycle_rule_archives_or_expires_live_data", "infra/bucket.py",
          '"id": "expire-noncurrent-versions",',
          '"id": "expire-noncurrent-versions",\n'
          '            "transitions": [{"days": 30, "storage_class": "GLACIER"}],',
          "current objects moved to Glacier after 30 days"),
    Break(f"{SEC}::test_no_lifecycle_rule_archives_or_expires_live_data", "infra/layer.py",
          "args.baseline.bucket(bucket_name)",
          'args.baseline.bucket(bucket_name, expiring_prefixes=(("tables/", 90),))',
          "tables expire after 90 days"),
    Break(f"{SEC}::test_CKV_AWS_7_kms_key_rotation_enabled", "infra/key.py",
          "enable_key_rotation=True", "enable_key_rotation=False", "key rotation off"),
    Break(f"{SEC}::test_CKV_AWS_33_kms_key_policy_has_no_wildcard_principal",
          "infra/key.py", '"Principal": {"AWS": root}', '"Principal": {"AWS": "*"}',
          "key administered by anyone"),
    Break(f"{SEC}::test_CKV_AWS_158_log_groups_encrypted_with_kms", "infra/job.py",
          "kms_key_id=env.kms_key_arn,", "", "log groups without the key"),
    Break(f"{SEC}::test_CKV_AWS_66_log_groups_have_retention", "infra/job.py",
          "retention_in_days=env.log_retention_days,", "", "logs kept forever"),
    Break(f"{SEC}::test_CKV_AWS_338_prod_log_groups_keep_a_year", "Pulumi.prod.yaml",
          "medallion:logRetentionDays: 365", "medallion:logRetentionDays: 90",
          "prod keeps logs 90 days"),
    Break(f"{SEC}::test_CKV_AWS_26_sns_topic_encrypted", "infra/alerting.py",
          'aws.sns.Topic(f"{name}-alerts", kms_master_key_id=kms_key_arn, opts=child)',
          'aws.sns.Topic(f"{name}-alerts", opts=child)', "alert topic unencrypted"),
    Break(f"{SEC}::test_CKV_AWS_99_glue_security_configuration_encrypts_everything",
          "infra/key.py", '"job_bookmarks_encryption_mode": "CSE-KMS"',
          '"job_bookmarks_encryption_mode": "DISABLED"', "bookmarks unencrypted"),
    Break(f"{SEC}::test_CKV_AWS_195_glue_jobs_use_security_configuration", "infra/job.py",
          "security_configuration=env.security_configuration,", "",
          "jobs without security configuration"),
    Break(f"{SEC}::test_CKV_AWS_82_athena_workgroup_enforces_configuration",
          "infra/athena.py", '"enforce_workgroup_configuration": True',
          '"enforce_workgroup_configuration": False', "clients may override the workgroup"),
    Break(f"{SEC}::test_CKV_AWS_159_athena_workgroup_results_encrypted", "infra/athena.py",
          '"encryption_option": "SSE_KMS"', '"encryption_option": "SSE_S3"',
          "results with SSE-S3"),
    Break(f"{IAM}::test_silver_role_cannot_write_bronze_or_gold", "infra/layer.py",
          'args.upstream.grant_read("ReadUpstreamTables"',
          'args.upstream.grant_read_write("ReadUpstreamTables"', "layers write upstream"),
    Break(f"{IAM}::test_job_role_touches_exactly_its_objects", "infra/layer.py",
          'policies.s3_write("RejectLanded", own.arn, REJECTED_PREFIX)',
          'policies.s3_write("RejectLanded", own.arn, LANDING_PREFIX)',
          "bronze may write anywhere in landing/"),
    Break(f"{IAM}::test_job_role_lists_only_what_it_reads", "infra/policies.py",
          '"Condition": {"StringLike": {"s3:prefix": [prefix.rstrip("/"), f"{prefix}*"]}},', "",
          "list the whole bucket"),
    Break(f"{IAM}::test_layer_role_registers_tables_in_its_own_database_only",
          "infra/policies.py", 'self.arn("glue", f"table/{database}/*")',
          'self.arn("glue", "table/*")', "tables of every database"),
    Break(f"{IAM}::test_no_role_can_write_two_layers", "infra/layer.py",
          'args.upstream.grant_read("ReadUpstreamTables"',
          'args.upstream.grant_read_write("ReadUpstreamTables"',
          "each layer's role also writes the layer upstream"),
    Break(f"{IAM}::test_no_role_can_write_two_layers", "infra/layer.py",
          'grants += own.grant_read_write("WriteOwnTables", TABLES_PREFIX)\n',
          'grants += own.grant_read_write("WriteOwnTables", TABLES_PREFIX)\n'
          '        if args.layer == "silver":\n'
          '            gold = args.names.bucket("gold", args.environment.aws_context.account_id,'
          ' args.environment.aws_context.region)\n'
          '            grants += policies.s3_write("WriteGold", pulumi.Output.concat('
          '"arn:aws:s3:::", gold), TABLES_PREFIX)\n',
          "silver's role may write gold's tables"),
    Break(f"{JOBS}::test_maintenance_runs_each_layer_job_with_the_maintain_action",
          "infra/schedule.py",
          'actions=[{"job_name": jobs[layer], "arguments": arguments} for layer in LAYERS],',
          'actions=[{"job_name": jobs[layer]} for layer in LAYERS],',
          "the weekly trigger runs the layers' pipelines, not their maintenance"),
    Break(f"{JOBS}::test_maintenance_runs_each_layer_job_with_the_maintain_action",
          "infra/schedule.py",
          'actions=[{"job_name": jobs[layer], "arguments": arguments} for layer in LAYERS],',
          'actions=[{"job_name": jobs[layer], "arguments": arguments} for layer in LAYERS[:2]],',
          "gold's tables are never maintained"),
    Break(f"{IAM}::test_job_role_writes_only_its_own_logs", "infra/policies.py",
          'aws.log_group_arn(f"{log_group_prefix}*"),', 'aws.log_group_arn("/aws-glue/*"),',
          "every Glue log group"),
    Break(f"{IAM}::test_job_role_uses_only_the_lakehouse_key", "infra/policies.py",
          '"Action": list(KMS_USE_ACTIONS),\n            "Resource": key_arn,',
          '"Action": list(KMS_USE_ACTIONS),\n            "Resource": "*",', "any key"),
    Break(f"{IAM}::test_CKV_AWS_63_no_wildcard_actions", "infra/policies.py",
          'S3_READ_ACTIONS = ("s3:GetObject",)', 'S3_READ_ACTIONS = ("s3:Get*",)',
          "s3:Get* instead of s3:GetObject"),
    Break(f"{IAM}::test_CKV_AWS_355_no_wildcard_resource_for_restrictable_actions",
          "infra/policies.py", '"Action": ["cloudwatch:PutMetricData"],',
          '"Action": ["cloudwatch:PutMetricData", "s3:GetObject"],',
          "s3:GetObject on every resource"),
    Break(f"{IAM}::test_CKV_AWS_274_no_managed_policies_on_job_roles", "infra/job.py",
          "assume_role_policy=policies.glue_assume_role(),",
          "assume_role_policy=policies.glue_assume_role(),\n            managed_policy_arns="
          '["arn:aws:iam::aws:policy/AmazonS3FullAccess"],', "AmazonS3FullAccess attached"),
    Break(f"{IAM}::test_job_roles_trust_only_glue", "infra/policies.py",
          '"Principal": {"Service": "glue.amazonaws.com"},',
          '"Principal": {"Service": ["glue.amazonaws.com", "lambda.amazonaws.com"]},',
          "Lambda may assume job roles"),
)
# fmt: on


def copy_project(scratch: Path) -> Path:
    copy = scratch / "project"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir()
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy / name)
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        shutil.copy(stack_file, copy / stack_file.name)
    return copy


def pytest_in(copy: Path, tests: list[str]) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=copy,
        capture_output=True,
        text=True,
    )
    return result.returncode, result.stdout + result.stderr


def run_case(case: Break, scratch: Path) -> tuple[bool, float]:
    """True when the rule's test failed on its assertions (not an error) on the broken copy."""
    copy = copy_project(scratch)
    target = copy / case.path
    text = target.read_text()
    if text.count(case.old) != 1:
        raise SystemExit(f"{case.what}: {case.old!r} is not in {case.path} exactly once")
    target.write_text(text.replace(case.old, case.new))
    started = time.monotonic()
    code, output = pytest_in(copy, [case.test])
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    # "2 failed in 3.1s" is a caught rule; "1 error" (a crash while collecting) is not.
    caught = (
        code == 1 and re.search(r"\d+ failed", summary) and not re.search(r"\d+ error", summary)
    )
    return bool(caught), time.monotonic() - started


def main(argv: list[str], breaks: tuple[Break, ...] = BREAKS, noun: str = "rule") -> int:
    """Run each case of ``breaks`` (those matching ``argv[0]``) on a copy; 0 when all caught."""
    wanted = argv[0] if argv else ""
    cases = [c for c in breaks if wanted in c.test or wanted in c.what]
    missed = 0
    with tempfile.TemporaryDirectory() as tmp:
        # Control: unbroken, every selected rule's test passes.
        code, output = pytest_in(copy_project(Path(tmp)), sorted({c.test for c in cases}))
        if code != 0:
            print(output)
            raise SystemExit("the unbroken program already fails these tests")
        print(f"control: {len({c.test for c in cases})} {noun} tests pass on the unbroken copy")
        for case in cases:
            caught, seconds = run_case(case, Path(tmp))
            missed += not caught
            verdict = "fails as it should" if caught else "NOT CAUGHT"
            test = case.test.split("::")[-1]
            print(f"{verdict:18} {seconds:5.1f}s  {test}  <- {case.what}", flush=True)
    print(f"{len(cases) - missed}/{len(cases)} broken {noun}s caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
