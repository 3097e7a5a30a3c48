"""Least privilege: each job's role, evaluated against what it may and may not touch."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stackrun import (
    ROLE,
    ROLE_POLICY,
    StackRun,
    actions,
    as_list,
    is_allowed,
    statements,
)

#: Every job is one layer's: the weekly maintenance runs each layer's own job.
JOBS = LAYERS = ("bronze", "silver", "gold")
#: Actions with no resource-level permissions: the only ones allowed on ``"Resource": "*"``.
UNRESTRICTABLE = {"cloudwatch:PutMetricData"}

# Objects at every place of every bucket that matters.
PLACES = {
    "landing": "landing/retail/clients/LOAD00000001.parquet",
    "rejected": "landing/_rejected/retail/clients/bad.csv",
    "tables": "tables/clients/_delta_log/00000000000000000000.json",
    "code": "artifacts/medallion/0123abcd/medallion-0.1.0-py3-none-any.whl",
    "results": "athena-results/query.csv",
    "access-logs": "s3-access/some-bucket/2024-01-01-00-00-00-ABC",
}
READ, WRITE, DELETE = "s3:GetObject", "s3:PutObject", "s3:DeleteObject"

#: (bucket, place, operation) each job may perform; everything else is denied.
EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    "bronze": {
        ("bronze", "landing", READ),
        ("bronze", "landing", DELETE),  # malformed files are moved away...
        ("bronze", "rejected", READ),
        ("bronze", "rejected", WRITE),  # ...below landing/_rejected/
        ("bronze", "rejected", DELETE),
        *(("bronze", "tables", op) for op in (READ, WRITE, DELETE)),
        ("artifacts", "code", READ),
    },
    "silver": {
        ("bronze", "tables", READ),
        *(("silver", "tables", op) for op in (READ, WRITE, DELETE)),
        ("artifacts", "code", READ),
    },
    "gold": {
        ("silver", "tables", READ),
        *(("gold", "tables", op) for op in (READ, WRITE, DELETE)),
        ("artifacts", "code", READ),
    },
}


def object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


@pytest.mark.parametrize("job", JOBS)
def test_job_role_touches_exactly_its_objects(stack: StackRun, job: str) -> None:
    """Reads the layer upstream, writes its own layer, nothing else (e.g. silver cannot write
    bronze or gold, gold cannot read bronze, no job touches logs or query results)."""
    policy = stack.role_policy(job)
    wrong = []
    for bucket_role, bucket in stack.bucket_names.items():
        for place, key in PLACES.items():
            for operation in (READ, WRITE, DELETE):
                expected = (bucket_role, place, operation) in EXPECTED[job]
                actual = is_allowed(policy, operation, object_arn(bucket, key))
                if actual != expected:
                    wrong.append(f"{operation} {bucket_role}/{key}: allowed={actual}")
    assert not wrong, f"{job} role:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("job", "readable"),
    [
        ("bronze", {("bronze", "landing"), ("bronze", "tables")}),
        ("silver", {("bronze", "tables"), ("silver", "tables")}),
        ("gold", {("silver", "tables"), ("gold", "tables")}),
    ],
)
def test_job_role_lists_only_what_it_reads(
    stack: StackRun, job: str, readable: set[tuple[str, str]]
) -> None:
    policy = stack.role_policy(job)
    for bucket_role, bucket in stack.bucket_names.items():
        for place, prefix in (("landing", "landing/retail/"), ("tables", "tables/clients/")):
            allowed = is_allowed(
                policy, "s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": prefix}
            )
            assert allowed == ((bucket_role, place) in readable), f"{job}: list {bucket}/{prefix}"


def test_silver_role_cannot_write_bronze_or_gold(stack: StackRun) -> None:
    policy = stack.role_policy("silver")
    for layer in ("bronze", "gold"):
        table = object_arn(stack.bucket_names[layer], PLACES["tables"])
        assert not is_allowed(policy, WRITE, table), layer
        assert not is_allowed(policy, DELETE, table), layer


@pytest.mark.parametrize("job", LAYERS)
def test_layer_role_registers_tables_in_its_own_database_only(stack: StackRun, job: str) -> None:
    policy = stack.role_policy(job)
    databases = stack.exports["databaseNames"]
    glue = "arn:aws:glue:eu-west-1:123456789012"
    for layer, database in databases.items():
        own = layer == job
        for action in ("glue:CreateTable", "glue:UpdateTable", "glue:GetTable"):
            allowed = is_allowed(policy, action, f"{glue}:table/{database}/clients")
            assert allowed == own, f"{job}: {action} in {database}"
        assert is_allowed(policy, "glue:GetDatabase", f"{glue}:database/{database}") == own
    for action in ("glue:DeleteTable", "glue:DeleteDatabase", "glue:CreateDatabase"):
        assert not is_allowed(policy, action, f"{glue}:database/{databases[job]}"), action


def service_roles(stack: StackRun) -> dict[str, dict[str, Any]]:
    """The inline policy of every role an AWS service assumes (jobs and any replication):
    the roles that move data, as opposed to a person's deploy role."""
    trusted = {
        role.outputs["name"]
        for role in stack.of_type(ROLE)
        if all(
            "Service" in statement.get("Principal", {})
            for statement in statements(json.loads(role["assumeRolePolicy"]))
        )
    }
    return {
        policy["role"]: json.loads(policy["policy"])
        for policy in stack.of_type(ROLE_POLICY)
        if policy["role"] in trusted
    }


def test_no_role_can_write_two_layers(stack: StackRun) -> None:
    """A job writes its own layer only: no role may create, replace or delete objects in two
    layers' buckets, at any place of them (maintenance included, as it runs each layer's job)."""
    roles = service_roles(stack)
    assert len(roles) >= len(LAYERS)
    for role, policy in roles.items():
        writable = {
            layer
            for layer in LAYERS
            for key in PLACES.values()
            for operation in (WRITE, DELETE)
            if is_allowed(policy, operation, object_arn(stack.bucket_names[layer], key))
        }
        assert len(writable) <= 1, f"role {role} can write {sorted(writable)}"


@pytest.mark.parametrize("job", JOBS)
def test_job_role_writes_only_its_own_logs(stack: StackRun, job: str) -> None:
    policy = stack.role_policy(job)
    logs = "arn:aws:logs:eu-west-1:123456789012:log-group"
    for other, name in stack.job_names.items():
        for suffix in ("error", "output"):
            stream = f"{logs}:/aws-glue/{name}/{suffix}:log-stream:jr_1-driver"
            assert is_allowed(policy, "logs:PutLogEvents", stream) == (other == job), stream


@pytest.mark.parametrize("job", JOBS)
def test_job_role_uses_only_the_lakehouse_key(stack: StackRun, job: str) -> None:
    policy = stack.role_policy(job)
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert is_allowed(policy, action, stack.key_arn)
        assert not is_allowed(policy, action, "arn:aws:kms:eu-west-1:123456789012:key/other")
    assert not is_allowed(policy, "kms:ScheduleKeyDeletion", stack.key_arn)


def test_CKV_AWS_63_no_wildcard_actions(stack: StackRun) -> None:
    """Stricter than the checkov rule: no action holds a wildcard at all (no ``s3:Get*``)."""
    policies = stack.of_type(ROLE_POLICY)
    assert len(policies) == 3
    for policy in policies:
        wild = [a for a in actions(json.loads(policy["policy"])) if "*" in a or "?" in a]
        assert not wild, f"{policy.name}: {wild}"


def test_CKV_AWS_355_no_wildcard_resource_for_restrictable_actions(stack: StackRun) -> None:
    for policy in stack.of_type(ROLE_POLICY):
        for statement in statements(json.loads(policy["policy"])):
            if "*" not in as_list(statement["Resource"]):
                continue
            assert set(as_list(statement["Action"])) <= UNRESTRICTABLE, statement.get("Sid")
            assert statement.get("Condition"), f"{statement.get('Sid')}: '*' without a condition"


def test_CKV_AWS_274_no_managed_policies_on_job_roles(stack: StackRun) -> None:
    """No AdministratorAccess, no *FullAccess, no managed policy at all: inline least privilege."""
    attachment_types = {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive",
    }
    assert not [r for r in stack.resources if r.type in attachment_types]
    roles = stack.of_type(ROLE)
    assert len(roles) == 3
    for role in roles:
        assert not role.get("managedPolicyArns"), role.name


def test_job_roles_trust_only_glue(stack: StackRun) -> None:
    for role in stack.of_type(ROLE):
        (statement,) = statements(json.loads(role["assumeRolePolicy"]))
        assert statement == {
            "Effect": "Allow",
            "Principal": {"Service": "glue.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }, role.name
