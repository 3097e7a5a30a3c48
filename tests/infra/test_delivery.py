"""Delivery: Pulumi Deployments settings, OIDC deploy roles, and the GitHub Actions workflows.

The component runs under Pulumi mocks (no CLI, no AWS, no Pulumi Cloud); the workflows go through
actionlint (built from source by `make tools`) and a check that each `run:` calls only what the
project has.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import parliament
import pulumi
import pytest
import yaml
from stackrun import run_stacks

from infra.config import ConfigError, MappingSource, Reader, StackConfig
from infra.delivery import (
    DEFAULT_PRE_RUN_COMMANDS,
    PROTECTED_ROLE_ACTIONS,
    Delivery,
    DeliveryArgs,
    DeploymentsConfig,
    GithubOidcConfig,
    deploy_grants,
    policy_document,
)

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACCOUNT, REGION = "123456789012", "eu-west-1"
ORG, REPO = "acme-data", "acme/medallion"
#: Deployments of each stack: (stack, branch that deploys it).
STACK_BRANCHES = [("dev", "dev"), ("prod", "main")]
#: Where AWS authorizes the action on no resource (each grant says so in its reason).
NO_RESOURCE_GRANTS = {
    "KmsCreateKey",
    "KmsListAliases",
    "GlueSecurityConfiguration",
    "LogGroupsDescribe",
    "SnsSubscription",
}
INLINE_POLICY_LIMIT = 10_240  # characters of all inline policies of one role, whitespace aside


class Recorder(pulumi.runtime.Mocks):
    """Echo inputs, add ARNs, and keep every registration for the assertions."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        state = dict(args.inputs)
        if args.typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{args.name}"
        if args.typ == "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
            host = args.inputs["url"].removeprefix("https://")
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{host}"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        results = {
            "aws:index/getCallerIdentity:getCallerIdentity": {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/admin",
                "userId": "AIDTEST",
                "id": ACCOUNT,
            },
            "aws:index/getRegion:getRegion": {"region": REGION, "name": REGION, "id": REGION},
            "aws:index/getPartition:getPartition": {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "id": "aws",
            },
        }
        return results[args.token], []

    def of_type(self, typ: str) -> list[pulumi.runtime.MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> dict[str, Any]:
        (found,) = [r.inputs for r in self.of_type(typ) if r.name == name]
        return found


def deployments(branch: str, **overrides: Any) -> DeploymentsConfig:
    return replace(DeploymentsConfig(organization=ORG, repository=REPO, branch=branch), **overrides)


def delivery_args(
    stack: str, branch: str, *, github: bool = True, **overrides: Any
) -> DeliveryArgs:
    return DeliveryArgs(
        project="medallion",
        stack=stack,
        resource_prefix=f"medallion-{stack}",
        deployments=deployments(branch, **overrides),
        github=GithubOidcConfig(repository=REPO) if github else None,
    )


def run(args: DeliveryArgs) -> Recorder:
    """Declare one `Delivery` under mocks and return what it registered."""
    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=args.project, stack=args.stack, preview=False)

    @pulumi.runtime.test
    def program() -> None:
        Delivery(f"{args.resource_prefix}-delivery", args)

    program()
    return recorder


def policies(recorder: Recorder) -> list[dict[str, Any]]:
    return [
        json.loads(r.inputs["policy"]) for r in recorder.of_type("aws:iam/rolePolicy:RolePolicy")
    ]


def trust(recorder: Recorder, role: str) -> dict[str, Any]:
    document = json.loads(recorder.one("aws:iam/role:Role", role)["assumeRolePolicy"])
    (statement,) = document["Statement"]
    return statement


# --- Pulumi Deployments settings -----------------------------------------------------------


@pytest.mark.parametrize(("stack", "branch"), STACK_BRANCHES)
def test_deployment_settings_deploy_the_stack_from_its_branch(stack: str, branch: str) -> None:
    recorder = run(delivery_args(stack, branch))
    settings = recorder.one(
        "pulumiservice:index:DeploymentSettings", f"medallion-{stack}-delivery-settings"
    )
    assert (settings["organization"], settings["project"], settings["stack"]) == (
        ORG,
        "medallion",
        stack,
    )
    # The project root: no repoDir.
    assert settings["sourceContext"] == {"git": {"branch": f"refs/heads/{branch}"}}
    vcs = settings["vcs"]
    assert vcs["provider"] == "github"
    assert vcs["repository"] == REPO
    assert vcs["deployCommits"] is True
    assert vcs["previewPullRequests"] is True
    assert f"Pulumi.{stack}.yaml" in vcs["paths"]
    other = "prod" if stack == "dev" else "dev"
    assert f"Pulumi.{other}.yaml" not in vcs["paths"], "the other stack's settings deploy this one"
    for path in (
        "infra/**",
        "medallion/**",
        "domain/**",
        "__main__.py",
        "Pulumi.yaml",
        "pyproject.toml",
    ):
        assert path in vcs["paths"]
    operation = settings["operationContext"]
    assert operation["preRunCommands"][-1] == "make install"
    assert operation["options"]["skipInstallDependencies"] is True
    aws_oidc = operation["oidc"]["aws"]
    assert (
        aws_oidc["roleARN"]
        == f"arn:aws:iam::{ACCOUNT}:role/medallion-{stack}-delivery-pulumi-deploy"
    )
    assert aws_oidc["sessionName"] == f"pulumi-medallion-{stack}"


def test_deploy_paths_match_the_files_that_change_the_stack() -> None:
    paths = delivery_args("dev", "dev").deploy_paths
    changed = {
        "infra/lakehouse.py": True,
        "medallion/silver/runner.py": True,
        "domain/tables/clients.yaml": True,
        "domain/models/sales_daily.yaml": True,
        "Pulumi.dev.yaml": True,
        "Pulumi.prod.yaml": False,
        "README.md": False,
        "tests/infra/test_delivery.py": False,
    }
    for path, deploys in changed.items():
        matched = any(fnmatch.fnmatch(path, pattern) for pattern in paths)
        assert matched is deploys, path


def test_previews_and_repo_dir_follow_config() -> None:
    recorder = run(delivery_args("dev", "dev", preview_pull_requests=False, repo_dir="lake"))
    settings = recorder.one(
        "pulumiservice:index:DeploymentSettings", "medallion-dev-delivery-settings"
    )
    assert settings["vcs"]["previewPullRequests"] is False
    assert settings["sourceContext"]["git"]["repoDir"] == "lake"


# --- OIDC trust ----------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "branch"), STACK_BRANCHES)
def test_pulumi_role_trusts_only_this_org_project_and_stack(stack: str, branch: str) -> None:
    recorder = run(delivery_args(stack, branch))
    (provider,) = [
        r.inputs
        for r in recorder.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        if r.inputs["url"] == "https://api.pulumi.com/oidc"
    ]
    assert provider["clientIdLists"] == [ORG]
    statement = trust(recorder, f"medallion-{stack}-delivery-pulumi-deploy")
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
    }
    assert statement["Condition"]["StringEquals"] == {"api.pulumi.com/oidc:aud": ORG}
    (subject,) = statement["Condition"]["StringLike"].values()
    token = "pulumi:deploy:org:{org}:project:{project}:stack:{stack}:operation:update:scope:write"
    assert fnmatch.fnmatchcase(token.format(org=ORG, project="medallion", stack=stack), subject)
    other = "prod" if stack == "dev" else "dev"
    for org, project, other_stack in [
        (ORG, "medallion", other),
        (ORG, "medallion", f"{stack}2"),
        (ORG, "other", stack),
        ("evil", "medallion", stack),
    ]:
        claim = token.format(org=org, project=project, stack=other_stack)
        assert not fnmatch.fnmatchcase(claim, subject), claim


def test_github_role_trusts_only_the_stack_environment_of_the_repository() -> None:
    recorder = run(delivery_args("prod", "main"))
    statement = trust(recorder, "medallion-prod-delivery-github-deploy")
    issuer = "token.actions.githubusercontent.com"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/{issuer}"}
    assert statement["Condition"]["StringEquals"] == {f"{issuer}:aud": "sts.amazonaws.com"}
    (subject,) = statement["Condition"]["StringLike"].values()
    assert fnmatch.fnmatchcase(f"repo:{REPO}:environment:prod", subject)
    for claim in (
        f"repo:{REPO}:environment:dev",
        f"repo:{REPO}:ref:refs/heads/main",
        f"repo:{REPO}:pull_request",
        "repo:acme/fork:environment:prod",
    ):
        assert not fnmatch.fnmatchcase(claim, subject), claim


def test_existing_oidc_providers_are_reused_not_created() -> None:
    pulumi_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/api.pulumi.com/oidc"
    github_arn = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    args = replace(
        delivery_args("prod", "main", oidc_provider_arn=pulumi_arn),
        github=GithubOidcConfig(repository=REPO, oidc_provider_arn=github_arn),
    )
    recorder = run(args)
    assert recorder.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == []
    assert trust(recorder, "medallion-prod-delivery-pulumi-deploy")["Principal"] == {
        "Federated": pulumi_arn
    }


def test_each_part_is_off_unless_configured() -> None:
    nothing = DeliveryArgs(project="medallion", stack="dev", resource_prefix="medallion-dev")
    assert not nothing.enabled
    with pytest.raises(ValueError, match="medallion:deployments or medallion:githubOidc"):
        run(nothing)

    github_only = replace(nothing, github=GithubOidcConfig(repository=REPO))
    recorder = run(github_only)
    assert recorder.of_type("pulumiservice:index:DeploymentSettings") == []
    roles = [r.name for r in recorder.of_type("aws:iam/role:Role")]
    assert roles == ["medallion-dev-delivery-github-deploy"]

    recorder = run(delivery_args("dev", "dev", github=False))
    roles = [r.name for r in recorder.of_type("aws:iam/role:Role")]
    assert roles == ["medallion-dev-delivery-pulumi-deploy"]


# --- The deploy policy ---------------------------------------------------------------------


def grants(args: DeliveryArgs | None = None) -> list[Any]:
    return deploy_grants(args or delivery_args("dev", "dev"), "aws", ACCOUNT, REGION)


def all_statements() -> list[dict[str, Any]]:
    recorder = run(delivery_args("dev", "dev"))
    found = [s for document in policies(recorder) for s in document["Statement"]]
    assert len(policies(recorder)) == 2  # one per deploy role
    return found


def test_no_wildcard_actions_and_every_statement_has_a_sid() -> None:
    statements = all_statements()
    assert statements
    for statement in statements:
        assert statement.get("Sid"), statement
        actions = statement["Action"]
        assert isinstance(actions, list) and actions
        for action in actions:
            assert "*" not in action and "?" not in action, (statement["Sid"], action)


def test_every_grant_documents_why_it_is_there() -> None:
    for grant in grants():
        assert len(grant.reason.split()) >= 5, grant.sid


def test_resources_are_scoped_to_the_stack_prefix() -> None:
    for grant in grants():
        if grant.resources == ("*",):
            assert grant.sid in NO_RESOURCE_GRANTS, grant.sid
            assert "on no resource" in grant.reason, grant.sid
            continue
        for resource in grant.resources:
            assert "*" not in resource or any(
                marker in resource for marker in ("medallion-dev-", "medallion_dev_", ":key/*")
            ), (grant.sid, resource)
            # A neighbouring stack ("medallion-dev2") is outside the scope.
            assert "medallion-dev*" not in resource and "medallion_dev*" not in resource, resource


def test_job_roles_can_be_passed_to_glue_only() -> None:
    (passing,) = [g for g in grants() if "iam:PassRole" in g.actions]
    assert passing.condition == {"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}}


def test_deploy_roles_cannot_change_their_own_trust_or_permissions() -> None:
    recorder = run(delivery_args("dev", "dev"))
    roles = sorted(
        f"arn:aws:iam::{ACCOUNT}:role/{r.name}" for r in recorder.of_type("aws:iam/role:Role")
    )
    for document in policies(recorder):
        (deny,) = [s for s in document["Statement"] if s["Effect"] == "Deny"]
        assert deny["Resource"] == roles
        assert {"iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy"} <= set(
            deny["Action"]
        )
        assert set(deny["Action"]) == set(PROTECTED_ROLE_ACTIONS)


def test_policy_actions_exist_and_match_their_resources() -> None:
    """parliament knows every IAM action and the resource types each one is authorized on."""
    args = replace(
        delivery_args("dev", "dev"),
        github=GithubOidcConfig(
            repository=REPO,
            state_bucket="acme-pulumi-state",
            secrets_key_arn=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd",
        ),
    )
    document = policy_document(grants(args), [f"arn:aws:iam::{ACCOUNT}:role/medallion-dev-x"])
    findings = parliament.analyze_policy_string(document, include_community_auditors=False).findings
    # Athena lists workgroup, data catalog and capacity reservation for its tag actions; tagging
    # the workgroup touches the workgroup only.
    athena_tags = {"athena:TagResource", "athena:UntagResource", "athena:ListTagsForResource"}
    problems = [
        (f.issue, f.detail)
        for f in findings
        if not (f.issue == "RESOURCE_MISMATCH" and {d["action"] for d in f.detail} <= athena_tags)
    ]
    assert problems == []


def test_state_backend_grants_only_when_configured() -> None:
    assert not {"StateBackend", "StateSecrets"} & {g.sid for g in grants()}
    args = replace(
        delivery_args("dev", "dev"),
        github=GithubOidcConfig(repository=REPO, state_bucket="acme-pulumi-state"),
    )
    (backend,) = [g for g in grants(args) if g.sid == "StateBackend"]
    assert backend.resources == (
        "arn:aws:s3:::acme-pulumi-state",
        "arn:aws:s3:::acme-pulumi-state/*",
    )


def test_policy_fits_an_inline_role_policy() -> None:
    document = policy_document(grants(), [f"arn:aws:iam::{ACCOUNT}:role/medallion-dev-x"] * 2)
    assert len(re.sub(r"\s", "", document)) < INLINE_POLICY_LIMIT


# --- Config sections -----------------------------------------------------------------------


def read_deployments(values: dict[str, Any]) -> DeploymentsConfig:
    return DeploymentsConfig.read(Reader(MappingSource(values), where="medallion:deployments."))


def test_deployments_section_reads_with_defaults() -> None:
    config = read_deployments({"organization": ORG, "repository": REPO, "branch": "dev"})
    assert config == DeploymentsConfig(organization=ORG, repository=REPO, branch="dev")
    assert config.pre_run_commands == DEFAULT_PRE_RUN_COMMANDS
    custom = read_deployments(
        {
            "organization": ORG,
            "repository": REPO,
            "branch": "main",
            "paths": ["infra/**"],
            "previewPullRequests": False,
        }
    )
    assert (custom.paths, custom.preview_pull_requests) == (("infra/**",), False)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"repository": REPO, "branch": "dev"}, "medallion:deployments.organization"),
        ({"organization": ORG, "repository": "medallion", "branch": "dev"}, "repository"),
        ({"organization": ORG, "repository": REPO}, "medallion:deployments.branch"),
        ({"organization": ORG, "repository": REPO, "branch": "a b"}, "branch"),
        ({"organization": ORG, "repository": REPO, "branch": "dev", "paths": []}, "paths"),
        ({"organization": ORG, "repository": REPO, "branch": "dev", "repoDir": "../x"}, "repoDir"),
        (
            {"organization": ORG, "repository": REPO, "branch": "dev", "oidcProviderArn": "x"},
            "oidcProviderArn",
        ),
    ],
)
def test_bad_deployments_config_names_the_key(values: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        read_deployments(values)


def test_bad_github_config_names_the_key() -> None:
    reader = Reader(MappingSource({"repository": "not a repo"}), where="medallion:githubOidc.")
    with pytest.raises(ConfigError, match=r"medallion:githubOidc\.repository"):
        GithubOidcConfig.read(reader)


# --- GitHub Actions workflows --------------------------------------------------------------


def actionlint() -> Path:
    """The pinned actionlint; `make tools` builds it once (Go's module cache keeps it offline)."""
    built = subprocess.run(
        ["make", "-s", "--no-print-directory", "tools"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, f"make tools failed:\n{built.stdout}{built.stderr}"
    return ROOT / ".tools" / "bin" / "actionlint"


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(document: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "deploy.yml", "pulumi.yml"}


def test_workflows_pass_actionlint() -> None:
    result = subprocess.run(
        [str(actionlint()), "-no-color", *map(str, WORKFLOWS)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return set(re.findall(r"^([a-z][a-z0-9-]*):", text, flags=re.MULTILINE))


def test_run_steps_call_only_what_the_project_has() -> None:
    targets = makefile_targets()
    tools = {"pulumi", "pip"}
    checked = 0
    for path in WORKFLOWS:
        for step in steps(load(path)):
            if "run" not in step:
                continue
            for command in re.split(r"&&|\|\||;|\||\n", step["run"]):
                words = shlex.split(command)
                if not words:
                    continue
                checked += 1
                program, rest = words[0], words[1:]
                if program == "make":
                    named = [w for w in rest if not w.startswith("-") and "=" not in w]
                    assert named and set(named) <= targets, f"{path.name}: {command!r}"
                elif program in ("bash", "sh"):
                    assert (ROOT / rest[0]).is_file(), f"{path.name}: {command!r}"
                else:
                    assert program in tools or (ROOT / program).is_file(), (
                        f"{path.name}: {command!r} calls {program!r}, which the project lacks"
                    )
    assert checked >= 2


def test_pulumi_steps_use_stacks_that_exist() -> None:
    stacks = {
        p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml")
    }
    called = []
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            if job.get("uses") == "./.github/workflows/pulumi.yml":
                called.append((job["with"]["stack"], job["with"]["command"]))
    assert sorted(called) == [("dev", "preview"), ("dev", "up"), ("prod", "up")]
    assert {stack for stack, _ in called} <= stacks


def test_deploys_never_overlap_and_prod_waits_for_review() -> None:
    deploy = load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["dev", "main"]
    for job_name, stack in (("dev", "dev"), ("prod", "prod")):
        job = deploy["jobs"][job_name]
        assert job["with"]["environment"] == stack
        assert job["concurrency"]["group"] == f"pulumi-{stack}"
        assert job["concurrency"]["cancel-in-progress"] is False
        assert job["permissions"]["id-token"] == "write"
    reusable = load(ROOT / ".github" / "workflows" / "pulumi.yml")
    (job,) = reusable["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"
    aws_step = next(s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/"))
    assert "role-to-assume" in aws_step["with"]
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(aws_step["with"])


def test_ci_runs_the_readme_test_command_with_caches() -> None:
    ci = load(ROOT / ".github" / "workflows" / "ci.yml")
    assert "pull_request" in ci["on"]
    test_steps = ci["jobs"]["test"]["steps"]
    assert any(s.get("run") == "make test" for s in test_steps)
    python = next(s for s in test_steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["cache"] == "pip"
    cached = [
        s["with"]["path"] for s in test_steps if s.get("uses", "").startswith("actions/cache")
    ]
    assert "~/.ivy2" in cached


# --- The real program, with each stack file's delivery example ------------------------------


def delivery_example(stack: str) -> dict[str, str]:
    """The commented delivery example of `Pulumi.<stack>.yaml`, uncommented, as CLI overrides."""
    lines = (ROOT / f"Pulumi.{stack}.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  # medallion:"))
    block = [line[:2] + line[4:] for line in lines[start:] if line.startswith("  # ")]
    example = yaml.safe_load("config:\n" + "\n".join(block))["config"]
    assert set(example) == {"medallion:deployments", "medallion:githubOidc"}
    return {key: json.dumps(value) for key, value in example.items()}


def test_delivery_is_off_in_the_stack_files_as_shipped(runs: dict[str, Any]) -> None:
    for run in runs.values():
        assert run.of_type("medallion:index:Delivery") == []
        assert "deployRoleArn" not in run.exports


def test_stack_file_examples_deploy_each_stack_from_its_branch() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            stack: pool.submit(run_stacks, (stack,), delivery_example(stack))
            for stack, _ in STACK_BRANCHES
        }
        runs = {stack: future.result()[stack] for stack, future in futures.items()}
    for stack, branch in STACK_BRANCHES:
        run = runs[stack]
        assert run.error is None, run.error
        (settings,) = run.of_type("pulumiservice:index:DeploymentSettings")
        assert settings["stack"] == stack
        assert settings["sourceContext"]["git"]["branch"] == f"refs/heads/{branch}"
        role_arn = run.exports["deployRoleArn"]
        assert settings["operationContext"]["oidc"]["aws"]["roleARN"] == role_arn
        assert run.exports["githubDeployRoleArn"].endswith(
            f"medallion-{stack}-delivery-github-deploy"
        )
        (component,) = run.of_type("medallion:index:Delivery")
        children = [r for r in run.resources if r.parent == component.urn]
        assert {r.type for r in children} >= {
            "aws:iam/role:Role",
            "aws:iam/rolePolicy:RolePolicy",
            "pulumiservice:index:DeploymentSettings",
        }
        for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
            if policy.parent == component.urn:
                document = json.loads(policy["policy"])
                resources = [r for s in document["Statement"] for r in s["Resource"]]
                assert any(f"medallion-{stack}-" in r for r in resources)


# --- The "Deploy to AWS" guide -------------------------------------------------------------


class RecordingSource(MappingSource):
    """A config source that remembers every key the program asks for."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.asked: list[str] = []

    def get(self, key: str) -> str | None:
        self.asked.append(key)
        return super().get(key)


def guide() -> str:
    """The README's "Deploy to AWS" section."""
    text = (ROOT / "README.md").read_text()
    assert "\n## Deploy to AWS\n" in text, "README.md has no '## Deploy to AWS' section"
    return text.split("\n## Deploy to AWS\n", 1)[1].split("\n## ", 1)[0]


def test_guide_config_table_lists_every_key_the_program_reads() -> None:
    documented = set(re.findall(r"^\| `([A-Za-z:.]+)` \|", guide(), flags=re.MULTILINE))
    stack = RecordingSource({})
    StackConfig.load(stack, stack="dev")
    expected = {f"medallion:{key}" for key in stack.asked}
    for section, read, values in (
        ("deployments", DeploymentsConfig.read, {"organization": ORG, "repository": REPO}),
        ("githubOidc", GithubOidcConfig.read, {"repository": REPO}),
    ):
        source = RecordingSource({**values, "branch": "dev"})
        read(Reader(source, where=f"medallion:{section}."))
        expected |= {f"{section}.{key}" for key in source.asked}
    assert {"medallion:deployments", "medallion:githubOidc", "deployments.branch"} <= expected
    assert expected - documented == set()


def test_guide_has_the_sections_a_first_deploy_needs() -> None:
    headings = re.findall(r"^### (.+)$", guide(), flags=re.MULTILINE)
    for needed in (
        "Prerequisites",
        "state backend",
        "Configuration",
        "workflow run",
        "Athena",
        "Pulumi Deployments",
        "GitHub Actions",
        "costs",
        "Tear dev down",
    ):
        assert any(needed in heading for heading in headings), needed
    for command in (
        "pulumi stack init dev",
        "pulumi up -s dev",
        "aws glue start-workflow-run",
        "aws glue get-workflow-run",
        "aws logs tail",
        "pulumi destroy -s dev",
        "awskms://",
    ):
        assert command in guide(), command
    for mart in ("sales_daily", "sales_person_monthly", "customer_value", "avg_salary_by_age"):
        assert f"_gold.{mart}" in guide(), mart
