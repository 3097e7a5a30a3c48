"""The medallion lakehouse stack: ``pulumi up -s dev`` (config in ``Pulumi.<stack>.yaml``)."""

from pathlib import Path

import pulumi

from infra import Lakehouse, LakehouseArgs, StackConfig, build_wheel
from medallion.spec import DOMAIN

ROOT = Path(__file__).resolve().parent

# Read and validated before any resource is declared: a bad value stops here, naming its key.
config = StackConfig.load(pulumi.Config(), stack=pulumi.get_stack())
package = build_wheel(ROOT, out_dir=ROOT / "build" / "pulumi")

lakehouse = Lakehouse(
    config.base_name, LakehouseArgs(config=config, domain=DOMAIN, package=package)
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
