"""Run the real ``__main__.py`` for one stack under Pulumi mocks and write what it declared.

    python tests/infra/stack_runner.py <stack> <out.json> [key=value ...]

The config is what the CLI would pass: the defaults of ``Pulumi.yaml``, then
``Pulumi.<stack>.yaml``, then the ``key=value`` overrides, JSON-encoded into ``PULUMI_CONFIG``.
Each run is a fresh process, so the Pulumi runtime's global state (root stack, settings, the
event loop) never leaks from one stack into another.

The output holds every registered resource (type, name, parent URN, protect, ignoreChanges and
the resolved inputs), the stack exports, and the error if the program failed.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "medallion"
ACCOUNT = "123456789012"
REGION = "eu-west-1"
PARTITION = "aws"


def stack_config(stack: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """The stack's config as the CLI passes it to the program (all values strings)."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    values: dict[str, Any] = {}
    for key, declaration in (project.get("config") or {}).items():
        full_key = key if ":" in key else f"{project['name']}:{key}"
        if isinstance(declaration, dict):
            if "default" in declaration:
                values[full_key] = declaration["default"]
        else:
            values[full_key] = declaration
    stack_file = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    values.update(stack_file.get("config") or {})
    values.update(overrides or {})
    return {key: _encode(value) for key, value in values.items()}


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def main(argv: list[str]) -> int:
    stack, out_path, *pairs = argv
    overrides = dict(pair.split("=", 1) for pair in pairs)
    os.environ["PULUMI_CONFIG"] = json.dumps(stack_config(stack, overrides))
    sys.path.insert(0, str(ROOT))

    import pulumi
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    class Mocks(pulumi.runtime.Mocks):
        """Provider stand-in: echo the inputs, add the outputs AWS would compute."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            return _mock_resource(args.typ, args.name, dict(args.inputs))

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list]:
            return _mock_call(args.token), []

    class RecordingMonitor(MockMonitor):
        """The mock monitor, also keeping each registration's options for the tests."""

        def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
            super().__init__(mocks)
            self.records: list[dict[str, Any]] = []

        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)
            if request.type != "pulumi:pulumi:Stack":
                from pulumi.runtime import rpc

                self.records.append(
                    {
                        "urn": response.urn,
                        "type": request.type,
                        "name": request.name,
                        "parent": request.parent,
                        "custom": request.custom,
                        "protect": bool(request.protect),
                        "ignoreChanges": list(request.ignoreChanges),
                        "dependencies": list(request.dependencies),
                        "inputs": rpc.deserialize_properties(request.object),
                        "outputs": dict(self.resources[response.urn].state),
                    }
                )
            return response

    monitor = RecordingMonitor(Mocks())
    pulumi.runtime.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor
    )
    result: dict[str, Any] = {"stack": stack, "error": None, "exports": {}}

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

    try:
        _sync_await(run_pulumi_func(program))
        root = pulumi.runtime.get_root_resource()
        outputs = getattr(root, "outputs", {})
        result["exports"] = {
            key: _sync_await(pulumi.Output.from_input(value).future())
            for key, value in outputs.items()
        }
    except Exception as error:  # the test reads the message
        import traceback

        traceback.print_exc()
        result["error"] = f"{type(error).__name__}: {error}"
    result["resources"] = monitor.records
    result["imported"] = sorted({name.split(".")[0] for name in sys.modules})
    Path(out_path).write_text(json.dumps(result, default=_json_default, indent=1))
    return 0 if result["error"] is None else 1


def _json_default(value: Any) -> Any:
    path = getattr(value, "path", None)
    if path is not None:
        return {"__asset": str(path)}
    return repr(value)


def _arn(service: str, resource: str, *, regional: bool = True) -> str:
    region, account = (REGION, ACCOUNT) if regional else ("", ACCOUNT)
    return f"arn:{PARTITION}:{service}:{region}:{account}:{resource}"


def _mock_resource(typ: str, name: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    state = dict(inputs)
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or name
        state.update(bucket=bucket, arn=f"arn:{PARTITION}:s3:::{bucket}")
        return bucket, state
    if typ == "aws:iam/role:Role":
        role = inputs.get("name") or name
        state.update(name=role, arn=f"arn:{PARTITION}:iam::{ACCOUNT}:role/{role}")
        return role, state
    if typ == "aws:kms/key:Key":
        state.update(keyId=name, arn=_arn("kms", f"key/{name}"))
        return name, state
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        state["arn"] = _arn("logs", f"log-group:{inputs['name']}")
        return inputs["name"], state
    if typ in ("aws:dms/endpoint:Endpoint", "aws:dms/s3Endpoint:S3Endpoint"):
        state["endpointArn"] = _arn("dms", f"endpoint:{inputs['endpointId']}")
        return inputs["endpointId"], state
    if typ == "aws:sns/topic:Topic":
        state.update(name=name, arn=_arn("sns", name))
        return state["arn"], state
    if typ.startswith("aws:"):
        service = typ.split(":")[1].split("/")[0]
        resource_name = inputs.get("name") or name
        state.setdefault("name", resource_name)
        state.setdefault("arn", _arn(service, f"{typ.rsplit(':', 1)[-1].lower()}/{resource_name}"))
        return resource_name, state
    return f"{name}-id", state


def _mock_call(token: str) -> dict[str, Any]:
    if token == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT,
            "arn": f"arn:{PARTITION}:iam::{ACCOUNT}:user/ci",
            "userId": "AIDTEST",
            "id": ACCOUNT,
        }
    if token == "aws:index/getRegion:getRegion":
        return {"region": REGION, "name": REGION, "id": REGION, "endpoint": "", "description": ""}
    if token == "aws:index/getPartition:getPartition":
        return {
            "partition": PARTITION,
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
            "id": PARTITION,
        }
    raise AssertionError(f"the program made an unexpected call: {token}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
