"""Delivery: `pulumi up` on git push, with AWS access through OIDC and no stored keys.

`Delivery` builds, for one stack:

- with `medallion:deployments`: the IAM OIDC provider for Pulumi Cloud, a deploy role that only
  this organization/project/stack can assume, and the stack's Pulumi Deployments settings (a push
  to the branch deploys, pull requests get previews);
- with `medallion:githubOidc`: the IAM OIDC provider for GitHub Actions and a deploy role that
  only jobs of one GitHub environment of one repository can assume.

Both roles carry one policy (`deploy_grants`): what `pulumi up` of this program needs, on names
that start with the stack's prefix. Neither role can change a deploy role: those, the providers
and the settings are applied by an administrator's `pulumi up`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_pulumiservice as pulumiservice

from infra.naming import Names
from infra.policies import POLICY_VERSION
from infra.reader import Reader

PULUMI_ISSUER = "api.pulumi.com/oidc"
"""Issuer of the tokens Pulumi Deployments mints for each run (IAM condition keys drop https)."""
PULUMI_OIDC_URL = f"https://{PULUMI_ISSUER}"
GITHUB_ISSUER = "token.actions.githubusercontent.com"
"""Issuer of GitHub Actions' tokens."""
GITHUB_OIDC_URL = f"https://{GITHUB_ISSUER}"
GITHUB_AUDIENCE = "sts.amazonaws.com"
"""The audience `aws-actions/configure-aws-credentials` asks GitHub for."""

DEFAULT_PATHS: tuple[str, ...] = (
    "__main__.py",
    "Pulumi.yaml",
    "Pulumi.{stack}.yaml",
    "pyproject.toml",
    "infra/**",
    "medallion/**",
    "domain/**",
)
"""Files whose change deploys the stack (`{stack}` becomes the stack name): the program, its
settings, the package the program builds into the Glue jobs' wheel, and the domain folder
(`medallion:domain`'s default) whose declarations the jobs load."""
DEFAULT_PRE_RUN_COMMANDS: tuple[str, ...] = (
    "command -v make >/dev/null || (apt-get update -qq && apt-get install -y -qq make)",
    "make install",
)
"""Install the project the way the README does (`make install` makes `.venv`)."""
DEFAULT_EXECUTOR_IMAGE = "pulumi/pulumi-python-3.11:latest"
"""Glue 5.1 runs Python 3.11, and `make install` asks for `python3.11`."""
SESSION_SECONDS = 3600
"""Longest deploy we expect; the AWS credentials of a run expire after it."""
SESSION_DURATION = f"{SESSION_SECONDS // 3600}h"

_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_BRANCH = re.compile(r"^[A-Za-z0-9_./-]+$")
_ARN = re.compile(r"^arn:aws[a-z-]*:")


def _string_list(reader: Reader, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A JSON list of non-empty strings (how a YAML list reaches a section's reader)."""
    raw = reader.raw(key)
    if raw is None:
        return default
    try:
        values = json.loads(raw)
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, list) or not values:
        raise reader.fail(key, "must be a non-empty list of strings")
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise reader.fail(key, "must be a non-empty list of strings")
    return tuple(values)


def _required(reader: Reader, key: str, pattern: re.Pattern[str], what: str) -> str:
    value = reader.optional_string(key)
    if value is None:
        raise reader.fail(key, f"is required ({what})")
    if not pattern.match(value):
        raise reader.fail(key, f"{value!r} is not {what}")
    return value


def _optional_arn(reader: Reader, key: str) -> str | None:
    value = reader.optional_string(key)
    if value is not None and not _ARN.match(value):
        raise reader.fail(key, f"{value!r} is not an ARN")
    return value


@dataclass(frozen=True)
class DeploymentsConfig:
    """`medallion:deployments`: Pulumi Deployments runs `pulumi up` on push to `branch`."""

    organization: str
    """Pulumi organization; also the audience of its OIDC tokens."""
    repository: str
    """GitHub `owner/repo` that Deployments clones (the Pulumi GitHub app must see it)."""
    branch: str
    """A push to this branch deploys the stack (`dev` for dev, `main` for prod)."""
    repo_dir: str = ""
    """Folder of Pulumi.yaml in the repository; empty: the root."""
    paths: tuple[str, ...] = DEFAULT_PATHS
    """Only pushes touching these paths deploy."""
    preview_pull_requests: bool = True
    """Run `pulumi preview` on pull requests and comment the diff."""
    pre_run_commands: tuple[str, ...] = DEFAULT_PRE_RUN_COMMANDS
    """Shell commands before `pulumi` runs."""
    executor_image: str = DEFAULT_EXECUTOR_IMAGE
    """Container image a deployment runs in."""
    oidc_provider_arn: str | None = None
    """An account holds one OIDC provider per issuer: the second stack in an account names the
    first one's here instead of creating its own."""

    @classmethod
    def read(cls, reader: Reader) -> DeploymentsConfig:
        repo_dir = reader.string("repoDir", "").strip("/")
        if ".." in repo_dir.split("/"):
            raise reader.fail("repoDir", f"{repo_dir!r} must stay inside the repository")
        return cls(
            organization=_required(reader, "organization", _NAME, "a Pulumi organization name"),
            repository=_required(reader, "repository", _REPOSITORY, "a GitHub 'owner/repo'"),
            branch=_required(reader, "branch", _BRANCH, "a branch name such as dev or main"),
            repo_dir=repo_dir,
            paths=_string_list(reader, "paths", DEFAULT_PATHS),
            preview_pull_requests=reader.boolean("previewPullRequests", True),
            pre_run_commands=_string_list(reader, "preRunCommands", DEFAULT_PRE_RUN_COMMANDS),
            executor_image=reader.string("executorImage", DEFAULT_EXECUTOR_IMAGE),
            oidc_provider_arn=_optional_arn(reader, "oidcProviderArn"),
        )


@dataclass(frozen=True)
class GithubOidcConfig:
    """`medallion:githubOidc`: GitHub Actions jobs of one environment may deploy the stack."""

    repository: str
    """GitHub `owner/repo` whose workflows may assume the role."""
    environment: str | None = None
    """GitHub environment of the deploy job; None: the stack name."""
    oidc_provider_arn: str | None = None
    """This account's GitHub OIDC provider, when another stack already created it."""
    state_bucket: str | None = None
    """S3 bucket of a self-managed state backend; None: Pulumi Cloud holds the state."""
    secrets_key_arn: str | None = None
    """KMS key of the `awskms://` secrets provider of a self-managed backend."""

    @classmethod
    def read(cls, reader: Reader) -> GithubOidcConfig:
        environment = reader.optional_string("environment")
        if environment is not None and not _NAME.match(environment):
            raise reader.fail("environment", f"{environment!r} is not an environment name")
        return cls(
            repository=_required(reader, "repository", _REPOSITORY, "a GitHub 'owner/repo'"),
            environment=environment,
            oidc_provider_arn=_optional_arn(reader, "providerArn"),
            state_bucket=reader.optional_string("stateBucket"),
            secrets_key_arn=_optional_arn(reader, "secretsKeyArn"),
        )


@dataclass(frozen=True)
class DeliveryArgs:
    """What `Delivery` builds for one stack; each part is off while its section is None.

    `resource_prefix` is `<namePrefix>-<stack>`, the start of every AWS name the program gives
    (Glue databases spell it with `_`).
    """

    project: str
    stack: str
    resource_prefix: str
    deployments: DeploymentsConfig | None = None
    github: GithubOidcConfig | None = None

    @property
    def enabled(self) -> bool:
        """True when at least one way of deploying is configured."""
        return self.deployments is not None or self.github is not None

    @property
    def deploy_paths(self) -> list[str]:
        """The Deployments path filters with `{stack}` filled in."""
        paths = self.deployments.paths if self.deployments else ()
        return [p.replace("{stack}", self.stack) for p in paths]

    @property
    def pulumi_subject(self) -> str:
        """The `sub` of every Pulumi Deployments token of this stack, whatever the operation."""
        org = self.deployments.organization if self.deployments else ""
        return f"pulumi:deploy:org:{org}:project:{self.project}:stack:{self.stack}:*"

    @property
    def github_subject(self) -> str:
        """The `sub` of GitHub tokens of jobs running in this stack's environment."""
        repository = self.github.repository if self.github else ""
        environment = (self.github.environment if self.github else None) or self.stack
        return f"repo:{repository}:environment:{environment}"


@dataclass(frozen=True)
class DeployGrant:
    """One statement of the deploy policy, with the reason it is there."""

    sid: str
    reason: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    effect: str = "Allow"
    condition: Mapping[str, Mapping[str, str]] | None = None

    def statement(self) -> dict[str, Any]:
        """The IAM statement (the reason stays here: IAM has no comment field)."""
        doc: dict[str, Any] = {
            "Sid": self.sid,
            "Effect": self.effect,
            "Action": sorted(self.actions),
            "Resource": sorted(self.resources),
        }
        if self.condition:
            doc["Condition"] = {k: dict(v) for k, v in self.condition.items()}
        return doc


def _actions(service: str, names: str) -> tuple[str, ...]:
    """`_actions("s3", "GetObject PutObject")` -> `("s3:GetObject", "s3:PutObject")`."""
    return tuple(f"{service}:{n}" for n in names.split())


def deploy_grants(
    args: DeliveryArgs, partition: str, account: str, region: str
) -> list[DeployGrant]:
    """What `pulumi up` (and preview, refresh, destroy) of this program needs, by service.

    Names come from `infra.naming.Names` with `*` for the layer or role:
    `<prefix>-<role>-<account>-<region>` buckets, `<prefix>-<layer>` jobs, `<prefix>_<layer>`
    databases, `alias/<prefix>`, and auto-named roles, topic and rule that start with
    `<prefix>-`. The few actions AWS authorizes on no resource say so.
    """
    names = Names(args.resource_prefix)
    p = names.base
    glue_db = names.database("*")

    def arn(service: str, resource: str, *, regional: bool = True) -> str:
        where = f"{region}:{account}" if regional else f":{account}"
        return f"arn:{partition}:{service}:{where}:{resource}"

    iam_roles = (arn("iam", f"role/{p}-*", regional=False),)
    grants = [
        DeployGrant(
            "S3Buckets",
            "create the layer, artifacts and access-log buckets and keep their versioning, "
            "encryption, public-access block, TLS-only policy, lifecycle, logging and tags; a "
            "refresh reads every bucket sub-resource",
            _actions(
                "s3",
                "CreateBucket DeleteBucket ListBucket ListBucketVersions GetBucketLocation "
                "GetBucketAcl GetBucketCORS GetBucketWebsite GetAccelerateConfiguration "
                "GetBucketRequestPayment GetReplicationConfiguration "
                "GetBucketObjectLockConfiguration GetBucketOwnershipControls "
                "GetBucketVersioning PutBucketVersioning GetEncryptionConfiguration "
                "PutEncryptionConfiguration GetBucketPublicAccessBlock PutBucketPublicAccessBlock "
                "GetBucketPolicy PutBucketPolicy DeleteBucketPolicy GetLifecycleConfiguration "
                "PutLifecycleConfiguration GetBucketLogging PutBucketLogging "
                "GetBucketTagging PutBucketTagging",
            ),
            (f"arn:{partition}:s3:::{names.bucket_prefix}*",),
        ),
        DeployGrant(
            "S3Objects",
            "upload the wheel and the Glue entry script to the artifacts bucket, and empty the "
            "buckets of a stack that sets forceDestroy",
            _actions(
                "s3",
                "GetObject GetObjectVersion GetObjectTagging PutObject PutObjectTagging "
                "DeleteObject DeleteObjectVersion",
            ),
            (f"arn:{partition}:s3:::{names.bucket_prefix}*/*",),
        ),
        DeployGrant(
            "KmsCreateKey",
            "create the lakehouse key; a key has no ARN before it exists, so CreateKey is "
            "authorized on no resource",
            ("kms:CreateKey",),
            ("*",),
        ),
        DeployGrant(
            "KmsKey",
            "keep the key's policy, rotation, description and tags, schedule its deletion on "
            "destroy, and encrypt what the program uploads to SSE-KMS buckets; key ids are "
            "random, so this is every key of the account in the stack's region",
            _actions(
                "kms",
                "DescribeKey GetKeyPolicy PutKeyPolicy GetKeyRotationStatus EnableKeyRotation "
                "UpdateKeyDescription ListResourceTags TagResource UntagResource "
                "ScheduleKeyDeletion Encrypt Decrypt GenerateDataKey",
            ),
            (arn("kms", "key/*"),),
        ),
        DeployGrant(
            "KmsAlias",
            "name the key alias/<prefix>; an alias change is authorized on the alias and the key",
            _actions("kms", "CreateAlias UpdateAlias DeleteAlias"),
            (arn("kms", names.key_alias), arn("kms", "key/*")),
        ),
        DeployGrant(
            "KmsListAliases",
            "a refresh finds the alias by listing; ListAliases is authorized on no resource",
            ("kms:ListAliases",),
            ("*",),
        ),
        DeployGrant(
            "GlueCatalog",
            "create the layer databases and register the Delta tables; deleting a database is "
            "authorized on its tables and functions too",
            _actions(
                "glue",
                "CreateDatabase GetDatabase UpdateDatabase DeleteDatabase CreateTable GetTable "
                "UpdateTable DeleteTable",
            ),
            (
                arn("glue", "catalog"),
                arn("glue", f"database/{glue_db}"),
                arn("glue", f"table/{glue_db}/*"),
                arn("glue", f"userDefinedFunction/{glue_db}/*"),
            ),
        ),
        DeployGrant(
            "GlueJobsAndSchedule",
            "create the layer jobs, the daily and maintenance workflows and their triggers",
            _actions(
                "glue",
                "CreateJob GetJob UpdateJob DeleteJob CreateWorkflow GetWorkflow UpdateWorkflow "
                "DeleteWorkflow CreateTrigger GetTrigger UpdateTrigger DeleteTrigger "
                "StartTrigger StopTrigger GetTags TagResource UntagResource",
            ),
            (
                arn("glue", f"job/{names.job('*')}"),
                arn("glue", f"workflow/{names.workflow}"),
                arn("glue", f"workflow/{p}-*"),
                arn("glue", f"trigger/{p}-*"),
            ),
        ),
        DeployGrant(
            "GlueSecurityConfiguration",
            "the security configuration that encrypts job output, logs and bookmarks with the "
            "key; Glue authorizes security configurations on no resource",
            _actions(
                "glue",
                "CreateSecurityConfiguration GetSecurityConfiguration DeleteSecurityConfiguration",
            ),
            ("*",),
        ),
        DeployGrant(
            "IamJobRoles",
            "create each job's role and its inline policy (auto-named <prefix>-<layer>-role-*)",
            _actions(
                "iam",
                "CreateRole GetRole UpdateRole UpdateAssumeRolePolicy DeleteRole TagRole "
                "UntagRole ListRoleTags ListInstanceProfilesForRole PutRolePolicy GetRolePolicy "
                "DeleteRolePolicy ListRolePolicies ListAttachedRolePolicies",
            ),
            iam_roles,
        ),
        DeployGrant(
            "IamPassJobRoles",
            "hand the job roles to Glue, and to no other service",
            ("iam:PassRole",),
            iam_roles,
            condition={"StringEquals": {"iam:PassedToService": "glue.amazonaws.com"}},
        ),
        DeployGrant(
            "IamReadOidcProviders",
            "a refresh reads the OIDC providers; only an administrator changes them",
            ("iam:GetOpenIDConnectProvider",),
            (
                arn("iam", f"oidc-provider/{PULUMI_ISSUER}", regional=False),
                arn("iam", f"oidc-provider/{GITHUB_ISSUER}", regional=False),
            ),
        ),
        DeployGrant(
            "LogGroups",
            "the jobs' log groups (/aws-glue/<job name>/...) with their retention and key",
            _actions(
                "logs",
                "CreateLogGroup DeleteLogGroup PutRetentionPolicy DeleteRetentionPolicy "
                "AssociateKmsKey DisassociateKmsKey TagResource UntagResource ListTagsForResource",
            ),
            (arn("logs", f"log-group:{names.log_group_prefix('*')}"),),
        ),
        DeployGrant(
            "LogGroupsDescribe",
            "a refresh finds a log group by listing; DescribeLogGroups is authorized on no "
            "resource",
            ("logs:DescribeLogGroups",),
            ("*",),
        ),
        DeployGrant(
            "EventsJobFailedRule",
            "the EventBridge rule that sends failed Glue job runs to the alert topic",
            _actions(
                "events",
                "PutRule DescribeRule DeleteRule EnableRule DisableRule PutTargets RemoveTargets "
                "ListTargetsByRule TagResource UntagResource ListTagsForResource",
            ),
            (arn("events", f"rule/{p}-*"),),
        ),
        DeployGrant(
            "SnsAlertTopic",
            "the alert topic, its policy, and subscribing the optional alert e-mail",
            _actions(
                "sns",
                "CreateTopic DeleteTopic GetTopicAttributes SetTopicAttributes Subscribe "
                "ListSubscriptionsByTopic TagResource UntagResource ListTagsForResource",
            ),
            (arn("sns", f"{p}-*"),),
        ),
        DeployGrant(
            "SnsSubscription",
            "read, update and remove the e-mail subscription; SNS authorizes these on no resource",
            _actions("sns", "GetSubscriptionAttributes SetSubscriptionAttributes Unsubscribe"),
            ("*",),
        ),
        DeployGrant(
            "AthenaWorkgroup",
            "the Athena workgroup with its encrypted results location",
            _actions(
                "athena",
                "CreateWorkGroup GetWorkGroup UpdateWorkGroup DeleteWorkGroup TagResource "
                "UntagResource ListTagsForResource",
            ),
            (arn("athena", f"workgroup/{names.workgroup}"),),
        ),
    ]
    github = args.github
    if github is not None and github.state_bucket:
        grants.append(
            DeployGrant(
                "StateBackend",
                "read and write the stack's checkpoint in the self-managed S3 state backend",
                _actions("s3", "ListBucket GetObject PutObject DeleteObject"),
                (
                    f"arn:{partition}:s3:::{github.state_bucket}",
                    f"arn:{partition}:s3:::{github.state_bucket}/*",
                ),
            )
        )
    if github is not None and github.secrets_key_arn:
        grants.append(
            DeployGrant(
                "StateSecrets",
                "encrypt and decrypt the stack's secrets with the awskms:// secrets provider",
                _actions("kms", "Encrypt Decrypt GenerateDataKey"),
                (github.secrets_key_arn,),
            )
        )
    return grants


PROTECTED_ROLE_ACTIONS: tuple[str, ...] = (
    "iam:UpdateAssumeRolePolicy",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:UpdateRole",
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
)
"""What a deploy role may never do to a deploy role: widen its own trust or permissions."""


def policy_document(grants: Sequence[DeployGrant], deploy_role_arns: Sequence[str]) -> str:
    """The deploy roles' policy JSON: the grants, then a deny on the deploy roles themselves."""
    deny = DeployGrant(
        "DenyDeployRoleChanges",
        "a deploy role changes neither its own trust and permissions nor its sibling's: the "
        "job-role grants above match the deploy roles' names too",
        PROTECTED_ROLE_ACTIONS,
        tuple(deploy_role_arns),
        effect="Deny",
    )
    statements = [g.statement() for g in [*grants, deny]]
    return json.dumps({"Version": POLICY_VERSION, "Statement": statements}, separators=(",", ":"))


def trust_policy(
    provider_arn: pulumi.Input[str], issuer: str, audience: str, subject: str
) -> pulumi.Output[str]:
    """Web-identity trust: tokens of `issuer` for exactly `audience` whose `sub` matches."""
    return pulumi.Output.json_dumps(
        {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "AssumeWithOidcToken",
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{issuer}:aud": audience},
                        "StringLike": {f"{issuer}:sub": subject},
                    },
                }
            ],
        }
    )


class Delivery(pulumi.ComponentResource):
    """Deploy roles for Pulumi Deployments and GitHub Actions, and the stack's deployment
    settings; `__main__` creates it only when `args.enabled`."""

    deploy_role_arn: pulumi.Output[str] | None
    """Role Pulumi Deployments assumes; None without `medallion:deployments`."""
    github_role_arn: pulumi.Output[str] | None
    """Role GitHub Actions assumes; None without `medallion:githubOidc`."""

    def __init__(
        self, name: str, args: DeliveryArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if not args.enabled:
            raise ValueError("Delivery needs config medallion:deployments or medallion:githubOidc")
        if not name.startswith(f"{args.resource_prefix}-"):
            raise ValueError(
                f"Delivery name {name!r} must start with {args.resource_prefix!r}-: the deploy "
                "policy covers only roles named with the stack's prefix"
            )
        super().__init__("medallion:index:Delivery", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        partition = aws.get_partition_output(opts=invoke).partition
        region = aws.get_region_output(opts=invoke).region
        account = aws.get_caller_identity_output(opts=invoke).account_id

        roles: dict[str, aws.iam.Role] = {}
        deployments, github = args.deployments, args.github
        if deployments is not None:
            provider = deployments.oidc_provider_arn or self._oidc_provider(
                f"{name}-pulumi-oidc", PULUMI_OIDC_URL, deployments.organization
            )
            roles["pulumi"] = aws.iam.Role(
                f"{name}-pulumi-deploy",
                description=f"Pulumi Deployments of {args.project}/{args.stack}",
                assume_role_policy=trust_policy(
                    provider, PULUMI_ISSUER, deployments.organization, args.pulumi_subject
                ),
                max_session_duration=SESSION_SECONDS,
                opts=child,
            )
        if github is not None:
            provider = github.oidc_provider_arn or self._oidc_provider(
                f"{name}-github-oidc", GITHUB_OIDC_URL, GITHUB_AUDIENCE
            )
            roles["github"] = aws.iam.Role(
                f"{name}-github-deploy",
                description=f"GitHub Actions deploys of {args.project}/{args.stack}",
                assume_role_policy=trust_policy(
                    provider, GITHUB_ISSUER, GITHUB_AUDIENCE, args.github_subject
                ),
                max_session_duration=SESSION_SECONDS,
                opts=child,
            )

        policy = pulumi.Output.all(partition, account, region, *(r.arn for r in roles.values()))
        document = policy.apply(
            lambda v: policy_document(deploy_grants(args, v[0], v[1], v[2]), v[3:])
        )
        for kind, role in roles.items():
            aws.iam.RolePolicy(
                f"{name}-{kind}-deploy-policy", role=role.id, policy=document, opts=child
            )

        self.deploy_role_arn = roles["pulumi"].arn if "pulumi" in roles else None
        self.github_role_arn = roles["github"].arn if "github" in roles else None
        if deployments is not None and self.deploy_role_arn is not None:
            self._deployment_settings(f"{name}-settings", args, deployments, self.deploy_role_arn)
        self.register_outputs(
            {"deploy_role_arn": self.deploy_role_arn, "github_role_arn": self.github_role_arn}
        )

    def _oidc_provider(self, name: str, url: str, audience: str) -> pulumi.Output[str]:
        provider = aws.iam.OpenIdConnectProvider(
            name, url=url, client_id_lists=[audience], opts=pulumi.ResourceOptions(parent=self)
        )
        return provider.arn

    def _deployment_settings(
        self,
        name: str,
        args: DeliveryArgs,
        deployments: DeploymentsConfig,
        role_arn: pulumi.Output[str],
    ) -> pulumiservice.DeploymentSettings:
        return pulumiservice.DeploymentSettings(
            name,
            organization=deployments.organization,
            project=args.project,
            stack=args.stack,
            source_context=pulumiservice.DeploymentSettingsSourceContextArgs(
                git=pulumiservice.DeploymentSettingsGitSourceArgs(
                    branch=f"refs/heads/{deployments.branch}",
                    repo_dir=deployments.repo_dir or None,
                )
            ),
            vcs=pulumiservice.DeploymentSettingsVcsArgs(
                provider="github",
                repository=deployments.repository,
                deploy_commits=True,
                preview_pull_requests=deployments.preview_pull_requests,
                paths=args.deploy_paths,
            ),
            executor_context=pulumiservice.DeploymentSettingsExecutorContextArgs(
                executor_image=deployments.executor_image
            ),
            operation_context=pulumiservice.DeploymentSettingsOperationContextArgs(
                pre_run_commands=list(deployments.pre_run_commands),
                options=pulumiservice.OperationContextOptionsArgs(
                    # `make install` in the pre-run commands has installed everything.
                    skip_install_dependencies=True,
                    skip_intermediate_deployments=True,
                ),
                oidc=pulumiservice.OperationContextOIDCArgs(
                    aws=pulumiservice.AWSOIDCConfigurationArgs(
                        role_arn=role_arn,
                        session_name=f"pulumi-{args.project}-{args.stack}",
                        duration=SESSION_DURATION,
                    )
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
