"""Stack configuration: read once from the stack's config, typed and validated.

``__main__.py`` is the only caller: ``StackConfig.load(pulumi.Config(), stack=...)``. Any
object with ``get(key) -> str | None`` is a source (``pulumi.Config`` is one; tests use a dict),
so nothing here talks to the Pulumi engine. A bad value raises :class:`ConfigError` naming the
full key (``medallion:numberOfWorkers``) before any resource is declared.

Every default is a named constant below, documented once in ``Pulumi.yaml`` (a test keeps the
two in agreement).

Adding a section (e.g. ``medallion:delivery``, a JSON object in the stack file):

1. a frozen dataclass with ``@classmethod read(cls, reader: Reader) -> Self`` that reads its
   fields through ``reader`` (``reader.string("organization")`` ...);
2. a field on :class:`StackConfig`, ``delivery: DeliveryConfig | None = None``;
3. one line in :meth:`StackConfig.load`:
   ``delivery=reader.optional_section("delivery", DeliveryConfig.read)``.

Errors inside a section name the nested key (``medallion:delivery.organization``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from infra.delivery import DeploymentsConfig, GithubOidcConfig
from infra.reader import ConfigError, ConfigSource, MappingSource, Reader
from infra.sources import IngestionConfig
from infra.sources import parse as parse_ingestion
from medallion.spec.contract import SAFE_RETENTION_HOURS

__all__ = [
    "ConfigError",
    "ConfigSource",
    "JobsConfig",
    "MappingSource",
    "ProtectionConfig",
    "Reader",
    "RetentionConfig",
    "ScheduleConfig",
    "StackConfig",
]

#: Resource name prefix; stack names are appended (``medallion-dev``).
DEFAULT_NAME_PREFIX = "medallion"
#: The domain folder (table and gold-model declarations), relative to the project.
DEFAULT_DOMAIN = "domain"
#: Glue worker type and maximum worker count (auto scaling runs between 2 and this).
DEFAULT_WORKER_TYPE = "G.1X"
DEFAULT_NUMBER_OF_WORKERS = 2
#: ``STANDARD`` or ``FLEX`` (spare capacity, cheaper, may start later).
DEFAULT_EXECUTION_CLASS = "STANDARD"
DEFAULT_JOB_TIMEOUT_MINUTES = 60
DEFAULT_JOB_MAX_RETRIES = 0
#: Glue cron expression (UTC) of the daily bronze -> silver -> gold workflow.
DEFAULT_SCHEDULE = "cron(0 2 * * ? *)"
DEFAULT_SCHEDULE_ENABLED = True
#: Weekly OPTIMIZE + VACUUM of every table, kept clear of the daily run.
DEFAULT_MAINTENANCE_SCHEDULE = "cron(0 5 ? * SUN *)"
#: VACUUM retention: Delta's safe minimum unless the stack keeps files longer.
DEFAULT_RETENTION_HOURS = SAFE_RETENTION_HOURS
#: CloudWatch Logs retention of the job log groups.
DEFAULT_LOG_RETENTION_DAYS = 30
#: Noncurrent object versions (what VACUUM deleted) are kept this long, at least the retention.
DEFAULT_NONCURRENT_VERSION_DAYS = 7
DEFAULT_ACCESS_LOG_RETENTION_DAYS = 90
DEFAULT_ATHENA_RESULT_RETENTION_DAYS = 7
DEFAULT_PROTECT = False
DEFAULT_FORCE_DESTROY = False
DEFAULT_KMS_DELETION_WINDOW_DAYS = 30

WORKER_TYPES = ("G.1X", "G.2X", "G.4X", "G.8X")
FLEX_WORKER_TYPES = ("G.1X", "G.2X")
EXECUTION_CLASSES = ("STANDARD", "FLEX")
MIN_WORKERS = 2
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
#: Longest ``<prefix>-<stack>``: bucket names add ``-artifacts-<account>-<region>`` (max 63).
MAX_BASE_NAME = 24
_PREFIX_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,15}$")
_STACK_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
# Glue schedules are six-field cron expressions: minutes hours day-of-month month day-of-week year.
_CRON_PATTERN = re.compile(r"^cron\((\S+ ){5}\S+\)$")
_EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class JobsConfig:
    """Glue job sizing, shared by every medallion job."""

    worker_type: str = DEFAULT_WORKER_TYPE
    number_of_workers: int = DEFAULT_NUMBER_OF_WORKERS
    execution_class: str = DEFAULT_EXECUTION_CLASS
    timeout_minutes: int = DEFAULT_JOB_TIMEOUT_MINUTES
    max_retries: int = DEFAULT_JOB_MAX_RETRIES
    #: Silver's tolerated share of quarantined rows; ``None`` keeps the package default.
    max_bad_ratio: float | None = None

    @classmethod
    def read(cls, reader: Reader) -> JobsConfig:
        jobs = cls(
            worker_type=reader.choice("workerType", DEFAULT_WORKER_TYPE, WORKER_TYPES),
            number_of_workers=reader.integer(
                "numberOfWorkers", DEFAULT_NUMBER_OF_WORKERS, minimum=MIN_WORKERS, maximum=299
            ),
            execution_class=reader.choice(
                "executionClass", DEFAULT_EXECUTION_CLASS, EXECUTION_CLASSES
            ),
            timeout_minutes=reader.integer(
                "jobTimeoutMinutes", DEFAULT_JOB_TIMEOUT_MINUTES, minimum=1, maximum=2880
            ),
            max_retries=reader.integer(
                "jobMaxRetries", DEFAULT_JOB_MAX_RETRIES, minimum=0, maximum=10
            ),
            max_bad_ratio=reader.ratio("maxBadRatio"),
        )
        if jobs.execution_class == "FLEX" and jobs.worker_type not in FLEX_WORKER_TYPES:
            raise reader.fail(
                "executionClass",
                f"FLEX runs only on {', '.join(FLEX_WORKER_TYPES)} workers, "
                f"not {jobs.worker_type} ({reader.key('workerType')})",
            )
        return jobs


@dataclass(frozen=True)
class ScheduleConfig:
    """When the pipeline and the weekly table maintenance run."""

    expression: str = DEFAULT_SCHEDULE
    enabled: bool = DEFAULT_SCHEDULE_ENABLED
    maintenance_expression: str = DEFAULT_MAINTENANCE_SCHEDULE
    retention_hours: int = DEFAULT_RETENTION_HOURS

    @classmethod
    def read(cls, reader: Reader) -> ScheduleConfig:
        return cls(
            expression=_cron(reader, "schedule", DEFAULT_SCHEDULE),
            enabled=reader.boolean("scheduleEnabled", DEFAULT_SCHEDULE_ENABLED),
            maintenance_expression=_cron(
                reader, "maintenanceSchedule", DEFAULT_MAINTENANCE_SCHEDULE
            ),
            retention_hours=reader.integer(
                "retentionHours", DEFAULT_RETENTION_HOURS, minimum=SAFE_RETENTION_HOURS
            ),
        )


@dataclass(frozen=True)
class RetentionConfig:
    """How long logs, old object versions and query results are kept."""

    log_days: int = DEFAULT_LOG_RETENTION_DAYS
    noncurrent_version_days: int = DEFAULT_NONCURRENT_VERSION_DAYS
    access_log_days: int = DEFAULT_ACCESS_LOG_RETENTION_DAYS
    athena_result_days: int = DEFAULT_ATHENA_RESULT_RETENTION_DAYS

    @classmethod
    def read(cls, reader: Reader, retention_hours: int) -> RetentionConfig:
        log_days = reader.integer("logRetentionDays", DEFAULT_LOG_RETENTION_DAYS, minimum=1)
        if log_days not in LOG_RETENTION_DAYS:
            raise reader.fail(
                "logRetentionDays",
                f"{log_days} is not a CloudWatch retention; use one of "
                f"{', '.join(map(str, LOG_RETENTION_DAYS))}",
            )
        noncurrent = reader.integer(
            "noncurrentVersionDays", DEFAULT_NONCURRENT_VERSION_DAYS, minimum=1
        )
        if noncurrent * 24 < retention_hours:
            raise reader.fail(
                "noncurrentVersionDays",
                f"{noncurrent} days is shorter than the Delta retention of {retention_hours} "
                f"hours ({reader.key('retentionHours')}); files VACUUM deletes must stay "
                "recoverable at least that long",
            )
        return cls(
            log_days=log_days,
            noncurrent_version_days=noncurrent,
            access_log_days=reader.integer(
                "accessLogRetentionDays", DEFAULT_ACCESS_LOG_RETENTION_DAYS, minimum=1
            ),
            athena_result_days=reader.integer(
                "athenaResultRetentionDays", DEFAULT_ATHENA_RESULT_RETENTION_DAYS, minimum=1
            ),
        )


@dataclass(frozen=True)
class ProtectionConfig:
    """What keeps data from being destroyed with the stack."""

    protect: bool = DEFAULT_PROTECT
    force_destroy: bool = DEFAULT_FORCE_DESTROY
    kms_deletion_window_days: int = DEFAULT_KMS_DELETION_WINDOW_DAYS

    @classmethod
    def read(cls, reader: Reader) -> ProtectionConfig:
        protection = cls(
            protect=reader.boolean("protect", DEFAULT_PROTECT),
            force_destroy=reader.boolean("forceDestroy", DEFAULT_FORCE_DESTROY),
            kms_deletion_window_days=reader.integer(
                "kmsDeletionWindowDays", DEFAULT_KMS_DELETION_WINDOW_DAYS, minimum=7, maximum=30
            ),
        )
        if protection.protect and protection.force_destroy:
            raise reader.fail(
                "forceDestroy",
                f"cannot be true on a protected stack ({reader.key('protect')} is true)",
            )
        return protection


@dataclass(frozen=True)
class StackConfig:
    """Everything the program needs from ``Pulumi.<stack>.yaml``."""

    stack: str
    name_prefix: str = DEFAULT_NAME_PREFIX
    #: ``medallion:domain``: the declarations the stack deploys, relative to the project.
    domain: str = DEFAULT_DOMAIN
    jobs: JobsConfig = JobsConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    retention: RetentionConfig = RetentionConfig()
    protection: ProtectionConfig = ProtectionConfig()
    #: Where failed job runs are reported (an SNS e-mail subscription), if anywhere.
    alert_email: str | None = None
    #: Pulumi Deployments on git push (``medallion:deployments``); off when absent.
    deployments: DeploymentsConfig | None = None
    #: GitHub Actions deploy role (``medallion:githubOidc``); off when absent.
    github_oidc: GithubOidcConfig | None = None
    #: DMS sources, their replication defaults and the workflow trigger (infra/sources.py).
    ingestion: IngestionConfig = field(default_factory=IngestionConfig)

    @property
    def base_name(self) -> str:
        """``<prefix>-<stack>``: the Lakehouse component's name and every child's prefix."""
        return f"{self.name_prefix}-{self.stack}"

    @classmethod
    def load(cls, source: ConfigSource, stack: str) -> StackConfig:
        reader = Reader(source)
        if not _STACK_PATTERN.match(stack):
            raise ConfigError(
                f"stack name {stack!r} must be lower case letters, digits and dashes "
                "(at most 16), as it names buckets and Glue jobs"
            )
        prefix = reader.string("namePrefix", DEFAULT_NAME_PREFIX)
        if not _PREFIX_PATTERN.match(prefix):
            raise reader.fail(
                "namePrefix", f"{prefix!r} must be 2-16 lower case letters, digits or dashes"
            )
        if len(f"{prefix}-{stack}") > MAX_BASE_NAME:
            raise reader.fail(
                "namePrefix",
                f"{prefix!r} with stack {stack!r} is longer than {MAX_BASE_NAME} characters, "
                "too long for bucket names",
            )
        domain = reader.string("domain", DEFAULT_DOMAIN).strip()
        if not domain:
            raise reader.fail("domain", "must name the domain folder (e.g. domain)")
        schedule = ScheduleConfig.read(reader)
        email = reader.optional_string("alertEmail")
        if email is not None and not _EMAIL_PATTERN.match(email):
            raise reader.fail("alertEmail", f"{email!r} is not an e-mail address")
        return cls(
            stack=stack,
            name_prefix=prefix,
            domain=domain,
            jobs=JobsConfig.read(reader),
            schedule=schedule,
            retention=RetentionConfig.read(reader, schedule.retention_hours),
            protection=ProtectionConfig.read(reader),
            alert_email=email,
            deployments=reader.optional_section("deployments", DeploymentsConfig.read),
            github_oidc=reader.optional_section("githubOidc", GithubOidcConfig.read),
            ingestion=parse_ingestion(source),
        )


def _cron(reader: Reader, key: str, default: str) -> str:
    value = reader.string(key, default)
    if not _CRON_PATTERN.match(value):
        raise reader.fail(
            key, f"{value!r} is not a Glue cron expression like 'cron(0 2 * * ? *)' (UTC)"
        )
    return value
