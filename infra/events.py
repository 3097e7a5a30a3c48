"""``LandingTrigger``: files landing start the workflow (``medallion:trigger: events``).

S3 sends the bronze bucket's events to EventBridge; a rule matches objects created below
``landing/<source>/`` of each declared source and notifies the Glue workflow, whose EVENT
trigger starts bronze once ``batchSize`` events arrived or ``batchWindowSeconds`` passed since
the first one: a burst of CDC files starts one run, not hundreds.

Only the declared sources' folders count: bronze itself writes below ``landing/_rejected/`` and
``tables/`` of the same bucket, and those writes must not start another run.

When the stack keeps its schedule on (``medallion:scheduleEnabled``), a scheduled EventBridge
rule notifies the same workflow at ``medallion:schedule``: a safety net that starts a run even
if no event arrived (it goes through the same batching, so it starts at most one window later).
A Glue workflow has one starting trigger, so the schedule is an event too, not a second trigger.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra import policies
from infra.layer import LANDING_PREFIX
from infra.sources import TriggerConfig
from medallion.spec import Domain

#: What lets EventBridge hand an event to a Glue workflow's EVENT trigger.
NOTIFY_ACTIONS = ("glue:NotifyEvent",)
EVENTS_SERVICE = "events.amazonaws.com"


@dataclass(frozen=True)
class LandingTriggerArgs:
    """The workflow to start, its first job, the bucket to watch and the batching."""

    workflow_name: pulumi.Input[str]
    first_job_name: pulumi.Input[str]
    bucket_name: pulumi.Input[str]
    #: ``landing/<source>/`` of every declared source (see :func:`landing_prefixes`).
    prefixes: tuple[str, ...]
    trigger: TriggerConfig
    aws_context: policies.AwsContext
    #: Glue/EventBridge cron of the safety-net run; ``None``: no scheduled run.
    safety_schedule: str | None = None


class LandingTrigger(pulumi.ComponentResource):
    """S3 -> EventBridge -> Glue EVENT trigger on the workflow, plus an optional safety net."""

    rule_name: pulumi.Output[str]
    trigger_name: pulumi.Output[str]
    role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: LandingTriggerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medallion:index:LandingTrigger", name, None, opts)
        if not args.prefixes:
            raise ValueError(f"{name}: no landing prefix to watch (the domain declares no table)")
        child = pulumi.ResourceOptions(parent=self)
        ctx = args.aws_context
        workflow_arn = pulumi.Output.concat(
            "arn:", ctx.partition, ":glue:", ctx.region, ":", ctx.account_id, ":workflow/",
            args.workflow_name,
        )  # fmt: skip

        aws.s3.BucketNotification(
            f"{name}-bucket-events", bucket=args.bucket_name, eventbridge=True, opts=child
        )
        trigger = aws.glue.Trigger(
            f"{name}-start",
            name=f"{name}-start",
            type="EVENT",
            workflow_name=args.workflow_name,
            actions=[{"job_name": args.first_job_name}],
            event_batching_conditions=[
                {
                    "batch_size": args.trigger.batch_size,
                    "batch_window": args.trigger.batch_window_seconds,
                }
            ],
            enabled=True,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=events_assume_role(ctx),
            description=f"EventBridge notifies the workflow {name}",
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=policies.document(
                [
                    {
                        "Sid": "NotifyWorkflow",
                        "Effect": "Allow",
                        "Action": list(NOTIFY_ACTIONS),
                        "Resource": workflow_arn,
                    }
                ]
            ),
            opts=child,
        )
        rule = aws.cloudwatch.EventRule(
            f"{name}-landed",
            description=f"Files landed below {', '.join(args.prefixes)}",
            event_pattern=landed_pattern(args.bucket_name, args.prefixes),
            opts=child,
        )
        # The EVENT trigger exists before events reach the workflow.
        notify = pulumi.ResourceOptions(parent=self, depends_on=[trigger, policy])
        aws.cloudwatch.EventTarget(
            f"{name}-landed-to-workflow",
            rule=rule.name,
            arn=workflow_arn,
            role_arn=role.arn,
            opts=notify,
        )
        if args.safety_schedule is not None:
            schedule = aws.cloudwatch.EventRule(
                f"{name}-safety-net",
                description="Starts the workflow on schedule even when no file landed",
                schedule_expression=args.safety_schedule,
                opts=child,
            )
            aws.cloudwatch.EventTarget(
                f"{name}-safety-net-to-workflow",
                rule=schedule.name,
                arn=workflow_arn,
                role_arn=role.arn,
                opts=notify,
            )

        self.rule_name = rule.name
        self.trigger_name = trigger.name
        self.role_arn = role.arn
        self.register_outputs(
            {"rule_name": self.rule_name, "trigger_name": self.trigger_name, "role_arn": role.arn}
        )


def landing_prefixes(domain: Domain) -> tuple[str, ...]:
    """``landing/<source>/`` of every source the domain declares a table for."""
    sources = sorted({table.source for table in domain.tables})
    return tuple(f"{LANDING_PREFIX}{source}/" for source in sources)


def landed_pattern(bucket_name: pulumi.Input[str], prefixes: tuple[str, ...]) -> pulumi.Output[str]:
    """EventBridge pattern: an object created in the bucket below one of ``prefixes``."""
    return pulumi.Output.json_dumps(
        {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [bucket_name]},
                "object": {"key": [{"prefix": prefix} for prefix in prefixes]},
            },
        }
    )


def events_assume_role(ctx: policies.AwsContext) -> pulumi.Output[str]:
    """Trust policy: EventBridge of this account only."""
    return pulumi.Output.json_dumps(
        {
            "Version": policies.POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": EVENTS_SERVICE},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
                }
            ],
        }
    )
