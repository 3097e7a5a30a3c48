"""The Athena workgroup: queries over the lakehouse's databases, results encrypted."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from infra.naming import Names

#: Where query results go in the artifacts bucket (they expire; see ``athenaResultRetentionDays``).
RESULTS_PREFIX = "athena-results/"
ENGINE = "Athena engine version 3"


def workgroup(
    name: str,
    names: Names,
    results_uri: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    force_destroy: bool,
    parent: pulumi.Resource,
) -> aws.athena.Workgroup:
    """A workgroup whose settings clients cannot override, with SSE-KMS results."""
    return aws.athena.Workgroup(
        f"{name}-athena",
        name=names.workgroup,
        description=f"Queries over the {name} catalog databases",
        force_destroy=force_destroy,
        configuration={
            "enforce_workgroup_configuration": True,
            "publish_cloudwatch_metrics_enabled": True,
            "engine_version": {"selected_engine_version": ENGINE},
            "result_configuration": {
                "output_location": results_uri,
                "encryption_configuration": {
                    "encryption_option": "SSE_KMS",
                    "kms_key_arn": kms_key_arn,
                },
            },
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
