"""Fixtures: each stack's program run once per test session, under Pulumi mocks."""

from __future__ import annotations

import pytest
from stackrun import STACKS, StackRun, load_config, run_stacks

from infra.config import StackConfig


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


@pytest.fixture(scope="session")
def configs() -> dict[str, StackConfig]:
    """Each stack's config, loaded in-process from the same files the runs used."""
    return {stack: load_config(stack) for stack in STACKS}
