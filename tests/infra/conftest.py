"""Fixtures: each stack's program run once per test session, under Pulumi mocks."""

from __future__ import annotations

import sys

import pytest
from stackrun import ROOT, STACKS, StackRun, run_stacks

# The Pulumi program's packages (infra/, __main__.py) live at the project root, like Pulumi runs them.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from infra.config import MappingSource, StackConfig  # noqa: E402
from stack_runner import stack_config  # noqa: E402


@pytest.fixture(scope="session")
def runs() -> dict[str, StackRun]:
    """dev and prod, each run in its own process from its own ``Pulumi.<stack>.yaml``."""
    results = run_stacks(STACKS)
    for stack, run in results.items():
        assert run.error is None, f"the {stack} program failed: {run.error}"
    return results


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest, runs: dict[str, StackRun]) -> StackRun:
    """Each stack in turn: rules that hold everywhere are checked on both."""
    return runs[request.param]


@pytest.fixture
def dev(runs: dict[str, StackRun]) -> StackRun:
    return runs["dev"]


@pytest.fixture
def prod(runs: dict[str, StackRun]) -> StackRun:
    return runs["prod"]


def load_config(stack: str, overrides: dict[str, str] | None = None) -> StackConfig:
    """The stack's config file, read the way ``__main__.py`` reads it."""
    values = stack_config(stack, overrides)
    own = {k.split(":", 1)[1]: v for k, v in values.items() if k.startswith("medallion:")}
    return StackConfig.load(MappingSource(own), stack=stack)


@pytest.fixture(scope="session")
def configs() -> dict[str, StackConfig]:
    return {stack: load_config(stack) for stack in STACKS}
