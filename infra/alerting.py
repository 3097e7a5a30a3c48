"""Failure alerting: failed, timed-out or errored job runs -> EventBridge -> an SNS topic."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import pulumi
import pulumi_aws as aws

from infra import policies

#: Job run states that page someone.
FAILED_STATES = ("FAILED", "TIMEOUT", "ERROR")


def alerting(
    name: str,
    job_names: Sequence[str],
    kms_key_arn: pulumi.Input[str],
    alert_email: str | None,
    parent: pulumi.Resource,
    *,
    extra_statements: Callable[[pulumi.Output[str]], Sequence[policies.Statement]] | None = None,
) -> aws.sns.Topic:
    """The encrypted topic, the rule matching the jobs' failed runs (maintenance runs are runs
        of the same jobs), and the optional e-mail subscription. ``extra_statements(topic_arn)``
    lets other publishers of the stack (DMS event subscriptions) publish too."""
    child = pulumi.ResourceOptions(parent=parent)
    topic = aws.sns.Topic(f"{name}-alerts", kms_master_key_id=kms_key_arn, opts=child)
    rule = aws.cloudwatch.EventRule(
        f"{name}-job-failed",
        description=f"A medallion Glue job of {name} failed",
        event_pattern=json.dumps(
            {
                "source": ["aws.glue"],
                "detail-type": ["Glue Job State Change"],
                "detail": {"jobName": list(job_names), "state": list(FAILED_STATES)},
            }
        ),
        opts=child,
    )
    aws.sns.TopicPolicy(
        f"{name}-alerts-policy",
        arn=topic.arn,
        policy=policies.document(
            [
                {
                    "Sid": "EventBridgePublishes",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sns:Publish",
                    "Resource": topic.arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule.arn}},
                },
                *(extra_statements(topic.arn) if extra_statements else ()),
            ]
        ),
        opts=child,
    )
    aws.cloudwatch.EventTarget(
        f"{name}-job-failed-to-alerts", rule=rule.name, arn=topic.arn, opts=child
    )
    if alert_email is not None:
        aws.sns.TopicSubscription(
            f"{name}-alerts-email",
            topic=topic.arn,
            protocol="email",
            endpoint=alert_email,
            opts=child,
        )
    return topic
