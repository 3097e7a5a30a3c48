"""What a mocked stack run declared, and a small IAM policy evaluator to question it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUNNER = HERE / "stack_runner.py"
STACKS = ("dev", "prod")

# The program's packages (infra/, __main__.py) live at the project root, where Pulumi runs it.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from stack_runner import stack_config  # noqa: E402

from infra.config import MappingSource, StackConfig  # noqa: E402

BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
)
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
KMS_KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
JOB = "aws:glue/job:Job"
TRIGGER = "aws:glue/trigger:Trigger"
WORKFLOW = "aws:glue/workflow:Workflow"
DATABASE = "aws:glue/catalogDatabase:CatalogDatabase"
TABLE = "aws:glue/catalogTable:CatalogTable"
SECURITY_CONFIGURATION = "aws:glue/securityConfiguration:SecurityConfiguration"
TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
EVENT_RULE = "aws:cloudwatch/eventRule:EventRule"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
WORKGROUP = "aws:athena/workgroup:Workgroup"


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    protect: bool
    ignore_changes: tuple[str, ...]
    inputs: Mapping[str, Any]
    #: What the mocked provider returned: the inputs plus computed values (``arn``, ``name``).
    outputs: Mapping[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.inputs[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.inputs.get(key, default)


@dataclass(frozen=True)
class StackRun:
    """The resources and exports of one run of ``__main__.py``."""

    stack: str
    resources: tuple[Resource, ...]
    exports: Mapping[str, Any]
    error: str | None
    #: Top-level modules loaded by the program's process.
    imported: tuple[str, ...] = ()

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str) -> Resource:
        found = self.of_type(type_)
        assert len(found) == 1, f"{self.stack}: expected one {type_}, found {len(found)}"
        return found[0]

    def named(self, name: str) -> Resource:
        found = [r for r in self.resources if r.name == name]
        assert len(found) == 1, f"{self.stack}: no single resource named {name}"
        return found[0]

    def for_bucket(self, type_: str, bucket: str) -> list[Resource]:
        """Bucket sub-resources (encryption, policy...) attached to one bucket name."""
        return [r for r in self.of_type(type_) if r.get("bucket") == bucket]

    @property
    def bucket_names(self) -> dict[str, str]:
        return dict(self.exports["bucketNames"])

    @property
    def job_names(self) -> dict[str, str]:
        return dict(self.exports["jobNames"])

    @property
    def key_arn(self) -> str:
        return str(self.exports["kmsKeyArn"])

    def job(self, layer: str) -> Resource:
        name = self.job_names[layer]
        return next(r for r in self.of_type(JOB) if r["name"] == name)

    def role_policy(self, layer: str) -> dict[str, Any]:
        """The policy document of the role the job of ``layer`` runs as."""
        role_name = self.job(layer)["roleArn"].rsplit("/", 1)[-1]
        policies = [p for p in self.of_type(ROLE_POLICY) if p["role"] == role_name]
        assert len(policies) == 1, f"{layer}: expected one inline policy, got {len(policies)}"
        return json.loads(policies[0]["policy"])


def load_config(stack: str, overrides: Mapping[str, str] | None = None) -> StackConfig:
    """The stack's config file, read the way ``__main__.py`` reads it."""
    values = stack_config(stack, dict(overrides or {}))
    own = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("medallion:")}
    return StackConfig.load(MappingSource(own), stack=stack)


def run_stacks(
    stacks: Sequence[str] = STACKS, overrides: Mapping[str, str] | None = None
) -> dict[str, StackRun]:
    """Run the program for each stack in its own process (in parallel) and load the results."""
    with tempfile.TemporaryDirectory() as tmp:
        outputs = {stack: Path(tmp) / f"{stack}.json" for stack in stacks}
        pairs = [f"{k}={v}" for k, v in (overrides or {}).items()]
        processes = {
            stack: subprocess.Popen(
                [sys.executable, str(RUNNER), stack, str(out), *pairs],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for stack, out in outputs.items()
        }
        runs = {}
        for stack, process in processes.items():
            log, _ = process.communicate(timeout=120)
            if not outputs[stack].exists():
                raise AssertionError(f"stack runner for {stack} wrote nothing:\n{log}")
            runs[stack] = load(outputs[stack])
        return runs


def load(path: Path) -> StackRun:
    data = json.loads(path.read_text())
    return StackRun(
        stack=data["stack"],
        resources=tuple(
            Resource(
                urn=r["urn"],
                type=r["type"],
                name=r["name"],
                parent=r["parent"],
                custom=r["custom"],
                protect=r["protect"],
                ignore_changes=tuple(r["ignoreChanges"]),
                inputs=r["inputs"],
                outputs=r["outputs"],
            )
            for r in data["resources"]
        ),
        exports=data["exports"],
        error=data["error"],
        imported=tuple(data.get("imported", ())),
    )


# --- IAM evaluation -------------------------------------------------------------------------


def statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = document["Statement"]
    return list(found) if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


@cache
def _pattern(glob: str) -> re.Pattern[str]:
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def glob_match(glob: str, value: str) -> bool:
    """IAM wildcard matching: ``*`` any run of characters, ``?`` one character."""
    return _pattern(glob).fullmatch(value) is not None


def _condition_holds(condition: Mapping[str, Any] | None, context: Mapping[str, str]) -> bool:
    for operator, tests in (condition or {}).items():
        for key, expected in tests.items():
            if key not in context:
                return False
            actual, options = context[key], [str(v) for v in as_list(expected)]
            if operator in ("StringEquals", "ArnEquals", "Bool"):
                ok = actual in options
            elif operator in ("StringLike", "ArnLike"):
                ok = any(glob_match(option, actual) for option in options)
            else:
                raise AssertionError(f"evaluator does not know condition operator {operator}")
            if not ok:
                return False
    return True


def is_allowed(
    document: Mapping[str, Any],
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> bool:
    """Identity-policy evaluation: an explicit deny wins, otherwise any matching allow."""
    allowed = False
    for statement in statements(document):
        if not any(glob_match(a, action) for a in as_list(statement.get("Action", []))):
            continue
        if not any(glob_match(r, resource) for r in as_list(statement.get("Resource", []))):
            continue
        if not _condition_holds(statement.get("Condition"), context or {}):
            continue
        if statement["Effect"] == "Deny":
            return False
        allowed = True
    return allowed


def actions(document: Mapping[str, Any]) -> Iterator[str]:
    for statement in statements(document):
        yield from as_list(statement.get("Action", []))


def assert_parented_and_named(stack: StackRun) -> None:
    """No stray resource at the stack root (triggers included), and every child's name starts
    with its parent's, so two lakehouses never collide."""
    by_urn = {r.urn: r for r in stack.resources}
    for resource in stack.resources:
        if resource.type == "medallion:index:Lakehouse":
            continue
        assert resource.parent in by_urn, f"{resource.name} is not inside a component"
        parent = by_urn[resource.parent]
        assert not parent.custom, f"{resource.name}: parent {parent.name} is not a component"
        assert resource.name.startswith(f"{parent.name}-"), f"{resource.name} under {parent.name}"
