"""Stack configuration: typed, validated, defaults documented once, bad values named."""

from __future__ import annotations

import dataclasses

import pytest
import yaml
from stackrun import ROOT, load_config, run_stacks

from infra import config as cfg
from infra.config import ConfigError, MappingSource, Reader, StackConfig
from medallion.spec.contract import SAFE_RETENTION_HOURS


def load(values: dict[str, object], stack: str = "test") -> StackConfig:
    return StackConfig.load(MappingSource(values), stack=stack)


def test_defaults_apply_when_nothing_is_set() -> None:
    config = load({})
    assert config == StackConfig(stack="test")
    assert config.base_name == "medallion-test"
    assert config.jobs.worker_type == cfg.DEFAULT_WORKER_TYPE
    assert config.schedule.retention_hours == SAFE_RETENTION_HOURS
    assert config.alert_email is None and config.jobs.max_bad_ratio is None


def test_pulumi_yaml_documents_the_code_defaults() -> None:
    """Each default in Pulumi.yaml equals the constant the code uses, and every key the code
    reads with a default is documented there."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    documented = {key: spec["default"] for key, spec in declared.items()}
    from_code = load({})
    expected = {
        "namePrefix": from_code.name_prefix,
        "domain": from_code.domain,
        "workerType": from_code.jobs.worker_type,
        "numberOfWorkers": from_code.jobs.number_of_workers,
        "executionClass": from_code.jobs.execution_class,
        "jobTimeoutMinutes": from_code.jobs.timeout_minutes,
        "jobMaxRetries": from_code.jobs.max_retries,
        "schedule": from_code.schedule.expression,
        "scheduleEnabled": from_code.schedule.enabled,
        "maintenanceSchedule": from_code.schedule.maintenance_expression,
        "retentionHours": from_code.schedule.retention_hours,
        "logRetentionDays": from_code.retention.log_days,
        "noncurrentVersionDays": from_code.retention.noncurrent_version_days,
        "accessLogRetentionDays": from_code.retention.access_log_days,
        "athenaResultRetentionDays": from_code.retention.athena_result_days,
        "protect": from_code.protection.protect,
        "forceDestroy": from_code.protection.force_destroy,
        "kmsDeletionWindowDays": from_code.protection.kms_deletion_window_days,
    }
    assert documented == expected


class RecordingSource(MappingSource):
    """A source that remembers every key the program asks for."""

    def __init__(self) -> None:
        super().__init__({})
        self.asked: set[str] = set()

    def get(self, key: str) -> str | None:
        self.asked.add(key)
        return super().get(key)


def test_stack_files_only_set_keys_the_program_reads() -> None:
    source = RecordingSource()
    StackConfig.load(source, stack="test")
    for stack in ("dev", "prod"):
        values = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        ours = {k.split(":", 1)[1] for k in values if k.startswith("medallion:")}
        assert ours <= source.asked, f"Pulumi.{stack}.yaml: unknown {sorted(ours - source.asked)}"


def test_stack_files_load() -> None:
    dev, prod = load_config("dev"), load_config("prod")
    assert dev.protection.force_destroy and not dev.protection.protect
    assert prod.protection.protect and not prod.protection.force_destroy
    assert prod.alert_email == "data-platform-alerts@example.com"
    assert prod.jobs.max_bad_ratio == 0.01


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("workerType", "G.16X", "not one of"),
        ("numberOfWorkers", "1", "between 2 and 299"),
        ("numberOfWorkers", "many", "not an integer"),
        ("executionClass", "CHEAP", "not one of"),
        ("jobTimeoutMinutes", "0", "between 1 and 2880"),
        ("schedule", "every day", "not a Glue cron"),
        ("schedule", "cron(0 2 * * ?)", "not a Glue cron"),
        ("maintenanceSchedule", "rate(7 days)", "not a Glue cron"),
        ("scheduleEnabled", "yes", "not true or false"),
        ("retentionHours", "24", ">= 168"),
        ("logRetentionDays", "10", "not a CloudWatch retention"),
        ("noncurrentVersionDays", "3", "shorter than the Delta retention"),
        ("maxBadRatio", "1.5", "between 0 and 1"),
        ("maxBadRatio", "lots", "not a number"),
        ("kmsDeletionWindowDays", "3", "between 7 and 30"),
        ("alertEmail", "nobody", "not an e-mail address"),
        ("namePrefix", "Medallion", "lower case"),
        ("namePrefix", "a-very-long-prefix", "lower case"),
    ],
)
def test_bad_value_fails_naming_the_key(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        load({key: value})
    assert f"medallion:{key}" in str(raised.value)


def test_flex_needs_small_workers() -> None:
    with pytest.raises(ConfigError, match=r"medallion:executionClass.*medallion:workerType"):
        load({"executionClass": "FLEX", "workerType": "G.4X"})
    assert load({"executionClass": "FLEX", "workerType": "G.2X"}).jobs.execution_class == "FLEX"


def test_retention_and_noncurrent_versions_move_together() -> None:
    with pytest.raises(ConfigError, match="medallion:noncurrentVersionDays"):
        load({"retentionHours": "720"})
    assert (
        load({"retentionHours": "720", "noncurrentVersionDays": "30"}).schedule.retention_hours
        == 720
    )


def test_protect_and_force_destroy_exclude_each_other() -> None:
    with pytest.raises(ConfigError, match="medallion:forceDestroy"):
        load({"protect": "true", "forceDestroy": "true"})


def test_names_must_fit_bucket_names() -> None:
    with pytest.raises(ConfigError, match="too long for bucket names"):
        load({"namePrefix": "lakehouse-data"}, stack="staging-eu")
    with pytest.raises(ConfigError, match="stack name"):
        StackConfig.load(MappingSource({}), stack="Prod")


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        load({}).stack = "other"  # type: ignore[misc]


def test_optional_section_reads_nested_keys_and_names_them() -> None:
    """How a later section (a JSON object under one key) plugs in."""

    @dataclasses.dataclass(frozen=True)
    class Section:
        organization: str
        retries: int

        @classmethod
        def read(cls, reader: Reader) -> Section:
            return cls(
                organization=reader.string("organization", "acme"),
                retries=reader.integer("retries", 1, minimum=0),
            )

    reader = Reader(MappingSource({"delivery": {"retries": 3}}))
    assert reader.optional_section("delivery", Section.read) == Section("acme", 3)
    assert Reader(MappingSource({})).optional_section("delivery", Section.read) is None
    with pytest.raises(ConfigError, match=r"medallion:delivery\.retries"):
        Reader(MappingSource({"delivery": {"retries": -1}})).optional_section(
            "delivery", Section.read
        )
    with pytest.raises(ConfigError, match="medallion:delivery: must be an object"):
        Reader(MappingSource({"delivery": "[1]"})).optional_section("delivery", Section.read)


def test_program_with_a_bad_value_declares_nothing() -> None:
    """The real program, dev's config with one bad value: it stops before any resource."""
    run = run_stacks(["dev"], {"medallion:numberOfWorkers": "1"})["dev"]
    assert run.error is not None and "medallion:numberOfWorkers" in run.error
    assert run.resources == ()
