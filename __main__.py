"""The medallion lakehouse stack: ``pulumi up -s dev`` (config in ``Pulumi.<stack>.yaml``)."""

from pathlib import Path

import pulumi

from infra import LakehouseStack, LakehouseStackArgs, StackConfig, build_wheel
from infra.delivery import Delivery, DeliveryArgs
from infra.domain import build_domain_archive
from medallion.spec import load_domain

ROOT = Path(__file__).resolve().parent

# Read and validated before any resource is declared: a bad value stops here, naming its key.
config = StackConfig.load(pulumi.Config(), stack=pulumi.get_stack())
package = build_wheel(ROOT, out_dir=ROOT / "build" / "pulumi")
# The declarations, checked as `medallion check` checks them: a bad one stops the preview here,
# with every problem named by file and key.
domain_folder = ROOT / config.domain
domain = load_domain(domain_folder, label=config.domain)
domain_archive = build_domain_archive(domain_folder, out_dir=ROOT / "build" / "pulumi")

lakehouse = LakehouseStack(
    config.base_name,
    LakehouseStackArgs(
        config=config, domain=domain, package=package, domain_archive=domain_archive
    ),
)

pulumi.export("bucketNames", lakehouse.bucket_names)
pulumi.export("landingUri", lakehouse.landing_uri)
pulumi.export("databaseNames", lakehouse.database_names)
pulumi.export("jobNames", lakehouse.job_names)
pulumi.export("workflowName", lakehouse.workflow_name)
pulumi.export("maintenanceWorkflowName", lakehouse.maintenance_workflow_name)
pulumi.export("athenaWorkgroup", lakehouse.athena_workgroup)
pulumi.export("alertTopicArn", lakehouse.alert_topic_arn)
pulumi.export("kmsKeyArn", lakehouse.kms_key_arn)
pulumi.export("wheelUri", lakehouse.wheel_uri)
pulumi.export("domainUri", lakehouse.domain_uri)
if lakehouse.replications:  # medallion:sources (docs/replication.md)
    pulumi.export(
        "replicationConfigArns",
        {name: r.replication_config_arn for name, r in lakehouse.replications.items()},
    )

# Deploy roles and Pulumi Deployments settings, only where the stack configures them.
delivery = DeliveryArgs(
    project=pulumi.get_project(),
    stack=config.stack,
    resource_prefix=config.base_name,
    deployments=config.deployments,
    github=config.github_oidc,
)
if delivery.enabled:
    roles = Delivery(f"{config.base_name}-delivery", delivery)
    pulumi.export("deployRoleArn", roles.deploy_role_arn)
    pulumi.export("githubDeployRoleArn", roles.github_role_arn)
