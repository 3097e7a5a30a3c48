"""When the jobs run: the daily pipeline workflow and the weekly maintenance workflow.

Daily: a scheduled trigger starts bronze, and each next layer starts when the previous one
SUCCEEDED. Weekly: one scheduled trigger starts every layer's own job with
``--action maintain`` (OPTIMIZE + VACUUM of that layer's tables), so maintenance runs under the
layer's role, which writes that layer only, and never beside a pipeline run of the same job
(every job allows one run at a time).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.config import ScheduleConfig
from infra.naming import Names
from medallion.spec.contract import LAYERS, Layer

#: The run argument that turns a layer's job into that layer's table maintenance.
MAINTAIN_ACTION = "maintain"


@dataclass(frozen=True)
class Workflows:
    daily: aws.glue.Workflow
    maintenance: aws.glue.Workflow


def maintenance_arguments(retention_hours: int) -> dict[str, str]:
    """What the weekly trigger passes to each layer's job for that run."""
    return {"--action": MAINTAIN_ACTION, "--retention-hours": str(retention_hours)}


def schedule(
    name: str,
    names: Names,
    config: ScheduleConfig,
    jobs: Mapping[Layer, pulumi.Output[str]],
    parent: pulumi.Resource,
    *,
    scheduled_start: bool = True,
) -> Workflows:
    """The two workflows and their triggers, parented to ``parent``. Without
    ``scheduled_start`` the daily workflow has no scheduled trigger (landed files start it:
    ``infra.events``)."""
    child = pulumi.ResourceOptions(parent=parent)
    daily = aws.glue.Workflow(
        f"{name}-workflow",
        name=names.workflow,
        description="bronze -> silver -> gold, on a schedule",
        max_concurrent_runs=1,
        opts=child,
    )
    if scheduled_start:
        aws.glue.Trigger(
            f"{name}-start",
            name=names.start_trigger,
            type="SCHEDULED",
            schedule=config.expression,
            enabled=config.enabled,
            start_on_creation=config.enabled,
            workflow_name=daily.name,
            actions=[{"job_name": jobs[LAYERS[0]]}],
            opts=child,
        )
    for before, after in itertools.pairwise(LAYERS):
        aws.glue.Trigger(
            f"{name}-{after}-after-{before}",
            name=names.step_trigger(after, previous=before),
            type="CONDITIONAL",
            workflow_name=daily.name,
            start_on_creation=True,
            predicate={
                "conditions": [
                    {"job_name": jobs[before], "state": "SUCCEEDED", "logical_operator": "EQUALS"}
                ]
            },
            actions=[{"job_name": jobs[after]}],
            opts=child,
        )
    maintenance = aws.glue.Workflow(
        f"{name}-maintenance-workflow",
        name=names.maintenance_workflow,
        description="Weekly OPTIMIZE and VACUUM of every table, each layer by its own job",
        max_concurrent_runs=1,
        opts=child,
    )
    arguments = maintenance_arguments(config.retention_hours)
    aws.glue.Trigger(
        f"{name}-maintenance-start",
        name=names.maintenance_trigger,
        type="SCHEDULED",
        schedule=config.maintenance_expression,
        enabled=config.enabled,
        start_on_creation=config.enabled,
        workflow_name=maintenance.name,
        # One layer's maintenance failing does not hold back the others'.
        actions=[{"job_name": jobs[layer], "arguments": arguments} for layer in LAYERS],
        opts=child,
    )
    return Workflows(daily=daily, maintenance=maintenance)
