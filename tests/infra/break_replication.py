"""Break each DMS and event-trigger setting on purpose and check that its test fails.

    .venv/bin/python tests/infra/break_replication.py [name-filter]

The same procedure as ``break_rules.py`` (a copy of the project, one small edit, the rule's
test must fail on its assertions), for the replication contract of ``infra/replication.py``,
``infra/events.py`` and their wiring. Slow on purpose: not part of the test suite.
"""

from __future__ import annotations

import sys

import break_rules
from break_rules import Break

T = "tests/infra/test_replication.py"
R = "infra/replication.py"
E = "infra/events.py"
CONTRACT = f"{T}::test_target_endpoint_keeps_the_landing_contract"

# fmt: off
BREAKS = (
    Break(f"{CONTRACT}[dataFormat]", R, '"data_format": "parquet"', '"data_format": "csv"',
          "CSV instead of parquet"),
    Break(f"{CONTRACT}[parquetVersion]", R, '"parquet_version": "parquet-2-0"',
          '"parquet_version": "parquet-1-0"', "parquet 1.0"),
    Break(f"{CONTRACT}[parquetTimestampInMillisecond]", R,
          '"parquet_timestamp_in_millisecond": False', '"parquet_timestamp_in_millisecond": True',
          "timestamps cut to milliseconds"),
    Break(f"{CONTRACT}[includeOpForFullLoad]", R, '"include_op_for_full_load": True',
          '"include_op_for_full_load": False', "no Op column in full-load files"),
    Break(f"{CONTRACT}[timestampColumnName]", R, '"timestamp_column_name": COMMIT_TS_COLUMN',
          '"timestamp_column_name": "ts"', "commit time in another column"),
    Break(f"{CONTRACT}[useTaskStartTimeForFullLoadTimestamp]", R,
          '"use_task_start_time_for_full_load_timestamp": True',
          '"use_task_start_time_for_full_load_timestamp": False',
          "full-load rows stamped with their transfer time"),
    Break(f"{CONTRACT}[datePartitionEnabled]", R, '"date_partition_enabled": True',
          '"date_partition_enabled": False', "CDC files not date-partitioned"),
    Break(f"{CONTRACT}[datePartitionSequence]", R, '"date_partition_sequence": "YYYYMMDD"',
          '"date_partition_sequence": "YYYYMMDDHH"', "hourly folders"),
    Break(f"{CONTRACT}[datePartitionDelimiter]", R, '"date_partition_delimiter": "SLASH"',
          '"date_partition_delimiter": "DASH"', "yyyy-mm-dd folders"),
    Break(f"{CONTRACT}[cdcInsertsAndUpdates]", R, '"cdc_inserts_and_updates": False',
          '"cdc_inserts_and_updates": True', "deletes dropped (CdcInsertsAndUpdates)"),
    Break(f"{CONTRACT}[cdcInsertsOnly]", R, '"cdc_inserts_only": False',
          '"cdc_inserts_only": True', "updates and deletes dropped (CdcInsertsOnly)"),
    Break(f"{CONTRACT}[preserveTransactions]", R, '"preserve_transactions": False',
          '"preserve_transactions": True', "transaction files instead of table files"),
    Break(f"{CONTRACT}[encryptionMode]", R, '"encryption_mode": "SSE_KMS"',
          '"encryption_mode": "SSE_S3"', "SSE-S3 instead of SSE-KMS"),
    Break(f"{CONTRACT}[bucketFolder]", R, "bucket_folder=LANDING_PREFIX.rstrip(\"/\"),",
          'bucket_folder="raw",', "files outside landing/"),
    Break(f"{T}::test_target_writes_the_bronze_bucket_with_the_lakehouse_key", R,
          "server_side_encryption_kms_key_id=args.kms_key_arn,", "",
          "objects encrypted with the AWS-managed key"),
    Break(f"{T}::test_target_writes_the_bronze_bucket_with_the_lakehouse_key", "infra/lakehouse.py",
          'landing_bucket_name=self.layers["bronze"].bucket_name,',
          'landing_bucket_name=self.layers["silver"].bucket_name,', "files land in silver"),
    Break(f"{T}::test_change_seq_is_added_from_dms_change_sequence", R,
          'CHANGE_SEQ_EXPRESSION = "$AR_H_CHANGE_SEQ"',
          'CHANGE_SEQ_EXPRESSION = "$AR_H_TIMESTAMP"', "change_seq from the commit time"),
    Break(f"{T}::test_stack_mappings_are_the_declared_tables", R,
          '"rule-name": f"add-{CHANGE_SEQ_COLUMN}",\n            "rule-target": "column",',
          '"rule-name": f"add-{CHANGE_SEQ_COLUMN}",\n            "rule-target": "table",',
          "change_seq rule on the wrong target"),
    Break(f"{T}::test_adding_a_table_adds_a_selection_rule_and_removing_it_removes_it", R,
          "for table in sorted(tables, key=lambda t: t.name):",
          "from tests.demo import load_demo\n\n    demo = load_demo().tables\n"
          "    for table in sorted(demo, key=lambda t: t.name):\n"
          "        if table.source != source.name:\n            continue",
          "mappings from the demo domain, not the one passed in"),
    Break(f"{T}::test_stack_mappings_are_the_declared_tables", R,
          "for table in sorted(tables, key=lambda t: t.name):",
          "for table in sorted(tables, key=lambda t: t.name)[1:]:", "one table not selected"),
    Break(f"{T}::test_stack_mappings_are_the_declared_tables", R,
          "    if source.schema != source.name:\n        rule(",
          "    if False:\n        rule(", "PostgreSQL's public schema lands as landing/public/"),
    Break(f"{T}::test_the_longest_names_fit_aws_limits", "infra/sources.py",
          "MAX_SOURCE_NAME = 16", "MAX_SOURCE_NAME = 24", "role names longer than IAM allows"),
    Break(f"{T}::test_replication_is_full_load_then_cdc_between_its_endpoints", R,
          'REPLICATION_TYPE = "full-load-and-cdc"', 'REPLICATION_TYPE = "cdc"',
          "no full load"),
    Break(f"{T}::test_a_reload_clears_the_table_folder_first", R,
          'TARGET_TABLE_PREP_MODE = "DROP_AND_CREATE"', 'TARGET_TABLE_PREP_MODE = "DO_NOTHING"',
          "stale LOAD files survive a reload"),
    Break(f"{T}::test_source_endpoint_reads_the_secret_and_holds_no_password", R,
          "secrets_manager_arn=source.secret_arn,",
          'secrets_manager_arn=source.secret_arn,\n            password="hunter2",',
          "a password in the stack"),
    Break(f"{T}::test_source_endpoint_reads_the_secret_and_holds_no_password", "infra/sources.py",
          'DEFAULT_SSL_MODE = "require"', 'DEFAULT_SSL_MODE = "none"', "plain-text connection"),
    Break(f"{T}::test_service_role_writes_only_below_its_own_landing_folder", R,
          'prefix = f"{LANDING_PREFIX}{source.name}/"', 'prefix = f"{LANDING_PREFIX}"',
          "DMS writes anywhere in landing/"),
    Break(f"{T}::test_service_role_writes_only_below_its_own_landing_folder", R,
          '"Condition": {"StringLike": {"s3:prefix": [prefix.rstrip("/"), f"{prefix}*"]}},', "",
          "DMS lists the whole bucket"),
    Break(f"{T}::test_service_role_reads_only_its_own_secret", R,
          '"Resource": source.secret_arn,', '"Resource": "arn:aws:secretsmanager:*"',
          "every secret readable"),
    Break(f"{T}::test_service_role_is_trusted_by_dms_of_this_account_only", R,
          '"Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},\n'
          "                }\n            ],\n        }\n    )\n\n\ndef service_role_statements",
          "                }\n            ],\n        }\n    )\n\n\ndef service_role_statements",
          "DMS of any account may assume the role"),
    Break(f"{T}::test_replication_failures_and_state_changes_reach_the_alert_topic", R,
          'EVENT_CATEGORIES = ("failure", "state change")', 'EVENT_CATEGORIES = ("failure",)',
          "state changes not alerted"),
    Break(f"{T}::test_dms_may_publish_to_the_encrypted_alert_topic", "infra/lakehouse.py",
          "*replication.alert_topic_statements(cfg.ingestion, topic.arn, ctx),", "",
          "DMS may not publish to the topic"),
    Break(f"{T}::test_prod_replicates_bigger_multi_az_and_protected", "Pulumi.prod.yaml",
          "    multiAz: true", "    multiAz: false", "prod without a standby"),
    Break(f"{T}::test_prod_replicates_bigger_multi_az_and_protected", R,
          "opts=pulumi.ResourceOptions(parent=self, protect=args.protect),",
          "opts=pulumi.ResourceOptions(parent=self),", "prod replication deletable"),
    Break(f"{T}::test_default_stacks_declare_no_replication", R,
          "    if not ingestion.sources:\n        return []\n    return [\n"
          '        {\n            "Sid": "DmsPublishesAlerts",',
          '    return [\n        {\n            "Sid": "DmsPublishesAlerts",',
          "DMS granted the key without any source"),
    Break(f"{T}::test_bronze_bucket_sends_its_events_to_eventbridge", E,
          "eventbridge=True", "eventbridge=False", "bucket events not sent"),
    Break(f"{T}::test_rule_matches_files_landing_below_declared_sources_only", E,
          '"object": {"key": [{"prefix": prefix} for prefix in prefixes]},',
          '"object": {"key": [{"prefix": "landing/"}]},',
          "rejected files start runs"),
    Break(f"{T}::test_event_trigger_starts_bronze_in_batches", E,
          '"batch_size": args.trigger.batch_size,', '"batch_size": 1,',
          "every file starts a run"),
    Break(f"{T}::test_event_trigger_starts_bronze_in_batches", "infra/lakehouse.py",
          "if not cfg.ingestion.trigger.on_events:", "if True:",
          "two starting triggers on the workflow"),
    Break(f"{T}::test_eventbridge_notifies_the_workflow_through_its_own_role", E,
          'NOTIFY_ACTIONS = ("glue:NotifyEvent",)',
          'NOTIFY_ACTIONS = ("glue:NotifyEvent", "glue:StartJobRun")',
          "EventBridge may start jobs directly"),
    Break(f"{T}::test_schedule_stays_as_a_safety_net_only_where_it_is_on", "infra/lakehouse.py",
          "safety_schedule=cfg.schedule.expression if cfg.schedule.enabled else None,",
          "safety_schedule=None,", "no safety net"),
)
# fmt: on


def main(argv: list[str]) -> int:
    return break_rules.main(argv, BREAKS, noun="setting")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
