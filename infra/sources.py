"""Replicated sources and what starts the pipeline, from the stack config, typed and validated.

Three optional keys, read once by :func:`parse` (``StackConfig.load`` calls it):

``medallion:sources``
    A list of source databases that AWS DMS replicates into ``landing/<name>/``::

        - name: retail                  # landing folder and DMS schema after the rename rule
          engine: mysql                 # or mariadb, aurora-mysql, postgres, aurora-postgresql
          database: retail              # database DMS connects to
          secretArn: arn:aws:secretsmanager:eu-west-1:111122223333:secret:retail-dms-AbCdEf
          subnetIds: [subnet-0a1b2c3d, subnet-4e5f6a7b]   # two AZs at least
          securityGroupIds: [sg-0a1b2c3d]
          # optional:
          schema: retail                # source schema (MySQL: the database; PostgreSQL: public)
          sslMode: require              # none | require | verify-ca | verify-full
          capacity: {min: 1, max: 4}    # DMS capacity units (DCU), overrides medallion:replication

``medallion:replication``
    What every source gets unless it says otherwise; dev and prod differ here::

        capacity: {min: 1, max: 4}
        multiAz: false

``medallion:trigger``
    ``schedule`` (the default: the Glue schedule starts the workflow) or ``events`` (files landing
    below ``landing/<source>/`` start it, batched); as an object
    ``{mode: events, batchSize: 100, batchWindowSeconds: 900}``.

Values come as the CLI passes them (JSON text) or already decoded (a test's dict). Every error is
a :class:`~infra.config.ConfigError` naming the full key, e.g. ``medallion:sources[1].engine``.
Pure Python: no Pulumi, no AWS calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from infra.reader import NAMESPACE, ConfigError

SOURCES_KEY = "sources"
REPLICATION_KEY = "replication"
TRIGGER_KEY = "trigger"

#: DMS Serverless capacity units a replication may scale between (one DCU is 2 GB of memory).
DCU_VALUES = (1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384)
#: Smallest and largest capacity of a source that sets none (``medallion:replication.capacity``).
DEFAULT_MIN_DCU = 1
DEFAULT_MAX_DCU = 4
#: A standby replication in a second AZ: off by default, on in prod.
DEFAULT_MULTI_AZ = False
#: TLS to the source database unless a source says otherwise.
DEFAULT_SSL_MODE = "require"
SSL_MODES = ("none", "require", "verify-ca", "verify-full")

SCHEDULE = "schedule"
EVENTS = "events"
TRIGGER_MODES = (SCHEDULE, EVENTS)
#: Glue's limits for an EVENT trigger's batching condition.
MAX_BATCH_SIZE = 100
MAX_BATCH_WINDOW_SECONDS = 900
#: A burst of CDC files starts one run: up to 100 files, or 15 minutes after the first one.
DEFAULT_BATCH_SIZE = MAX_BATCH_SIZE
DEFAULT_BATCH_WINDOW_SECONDS = MAX_BATCH_WINDOW_SECONDS

# A source name is a landing folder and a DMS schema, and names DMS resources after `_` -> `-`
# (DMS identifiers allow no `--`): lower snake case without doubled or trailing underscores.
_SOURCE_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
#: `<prefix>-<stack>-dms-<name>-role` plus Pulumi's 8-character suffix stays within IAM's 64.
MAX_SOURCE_NAME = 16
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+-[A-Za-z0-9]{6}$"
)
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
_IDENTIFIER = re.compile(r"^[A-Za-z0-9_$-]{1,128}$")


@dataclass(frozen=True)
class Engine:
    """How a configured engine maps onto DMS."""

    #: ``engine_name`` of the DMS source endpoint.
    dms_name: str
    #: ``mysql`` or ``postgres``: what the source needs (binary log or logical replication).
    family: str


#: The engines a source may name, and their DMS spelling (Aurora MySQL is DMS's ``aurora``).
ENGINES: dict[str, Engine] = {
    "mysql": Engine("mysql", "mysql"),
    "mariadb": Engine("mariadb", "mysql"),
    "aurora-mysql": Engine("aurora", "mysql"),
    "postgres": Engine("postgres", "postgres"),
    "aurora-postgresql": Engine("aurora-postgresql", "postgres"),
}
#: The schema a PostgreSQL source replicates unless it names one; MySQL's is the database.
POSTGRES_DEFAULT_SCHEMA = "public"


@dataclass(frozen=True)
class Capacity:
    """DMS Serverless capacity range, in DCU."""

    min: int = DEFAULT_MIN_DCU
    max: int = DEFAULT_MAX_DCU


@dataclass(frozen=True)
class SourceConfig:
    """One ``medallion:sources`` entry."""

    name: str
    engine: str
    database: str
    secret_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    schema: str
    ssl_mode: str = DEFAULT_SSL_MODE
    #: ``None``: the ``medallion:replication`` capacity.
    capacity: Capacity | None = None
    #: The entry's config key, for errors found later (``medallion:sources[0]``).
    key: str = f"{NAMESPACE}:{SOURCES_KEY}"

    @property
    def dms_engine(self) -> str:
        return ENGINES[self.engine].dms_name

    @property
    def family(self) -> str:
        return ENGINES[self.engine].family

    @property
    def identifier(self) -> str:
        """The name in DMS identifiers, which allow letters, digits and single hyphens."""
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class ReplicationDefaults:
    """``medallion:replication``: what each source gets unless it says otherwise."""

    capacity: Capacity = Capacity()
    multi_az: bool = DEFAULT_MULTI_AZ


@dataclass(frozen=True)
class TriggerConfig:
    """``medallion:trigger``: what starts the bronze -> silver -> gold workflow."""

    mode: str = SCHEDULE
    batch_size: int = DEFAULT_BATCH_SIZE
    batch_window_seconds: int = DEFAULT_BATCH_WINDOW_SECONDS

    @property
    def on_events(self) -> bool:
        return self.mode == EVENTS


@dataclass(frozen=True)
class IngestionConfig:
    """Sources, their replication defaults, and the workflow's trigger."""

    sources: tuple[SourceConfig, ...] = ()
    replication: ReplicationDefaults = ReplicationDefaults()
    trigger: TriggerConfig = TriggerConfig()

    def capacity(self, source: SourceConfig) -> Capacity:
        return source.capacity or self.replication.capacity


class RawConfig(Protocol):
    """``pulumi.Config``, a ``MappingSource`` or a plain mapping: anything with ``get``."""

    def get(self, key: str) -> Any: ...


def parse(raw: RawConfig | Mapping[str, Any]) -> IngestionConfig:
    """Read ``sources``, ``replication`` and ``trigger`` (keys without the namespace)."""
    replication = _replication(_Value(_decode(raw, REPLICATION_KEY), _key(REPLICATION_KEY)))
    return IngestionConfig(
        sources=_sources(_Value(_decode(raw, SOURCES_KEY), _key(SOURCES_KEY))),
        replication=replication,
        trigger=_trigger(_Value(_decode(raw, TRIGGER_KEY), _key(TRIGGER_KEY))),
    )


def config_error(key: str, problem: str) -> ConfigError:
    """The stack config's error type, naming ``key``."""
    return ConfigError(f"config {key}: {problem}")


# --- reading ------------------------------------------------------------------------------------


def _key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def _decode(raw: RawConfig | Mapping[str, Any], name: str) -> Any:
    value = raw.get(name)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # a bare word: `medallion:trigger: events`
    return value


@dataclass(frozen=True)
class _Value:
    """A decoded value and the key it sits at; errors name that key."""

    value: Any
    key: str

    def fail(self, problem: str) -> ConfigError:
        return config_error(self.key, problem)

    def field(self, name: str) -> _Value:
        return _Value(self.value.get(name), f"{self.key}.{name}")

    def item(self, index: int) -> _Value:
        return _Value(self.value[index], f"{self.key}[{index}]")

    def mapping(self, allowed: tuple[str, ...]) -> None:
        if not isinstance(self.value, dict):
            raise self.fail("must be an object")
        unknown = sorted(set(self.value) - set(allowed))
        if unknown:
            raise self.fail(f"unknown keys {unknown}; allowed: {', '.join(allowed)}")

    def string(self, pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        if self.value is None:
            raise self.fail(f"is required{f' ({what})' if what else ''}")
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.fail(f"{self.value!r} must be a non-empty string")
        if pattern is not None and not pattern.match(self.value):
            raise self.fail(f"{self.value!r} is not {what}")
        return self.value

    def optional_string(self, default: str, pattern: re.Pattern[str], what: str) -> str:
        return default if self.value is None else self.string(pattern, what)

    def choice(self, allowed: tuple[str, ...], default: str | None = None) -> str:
        if self.value is None and default is not None:
            return default
        value = self.string(what=f"one of {', '.join(allowed)}")
        if value not in allowed:
            raise self.fail(f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def integer(self, default: int, minimum: int, maximum: int) -> int:
        if self.value is None:
            return default
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            raise self.fail(f"{self.value!r} is not an integer")
        if not minimum <= self.value <= maximum:
            raise self.fail(f"{self.value} must be between {minimum} and {maximum}")
        return self.value

    def boolean(self, default: bool) -> bool:
        if self.value is None:
            return default
        if not isinstance(self.value, bool):
            raise self.fail(f"{self.value!r} is not true or false")
        return self.value

    def strings(self, pattern: re.Pattern[str], what: str, minimum: int) -> tuple[str, ...]:
        if self.value is None:
            raise self.fail(f"is required (a list of {what})")
        if not isinstance(self.value, list) or len(self.value) < minimum:
            raise self.fail(f"must be a list of at least {minimum} {what}")
        values = tuple(self.item(i).string(pattern, what) for i in range(len(self.value)))
        if len(set(values)) != len(values):
            raise self.fail("lists a value twice")
        return values


_SOURCE_FIELDS = (
    "name",
    "engine",
    "database",
    "secretArn",
    "subnetIds",
    "securityGroupIds",
    "schema",
    "sslMode",
    "capacity",
)


def _sources(value: _Value) -> tuple[SourceConfig, ...]:
    if value.value is None:
        return ()
    if not isinstance(value.value, list):
        raise value.fail("must be a list of sources")
    sources = tuple(_source(value.item(i)) for i in range(len(value.value)))
    seen: dict[str, int] = {}
    for index, source in enumerate(sources):
        if source.name in seen:
            raise config_error(
                f"{source.key}.name",
                f"{source.name!r} is already the name of {value.key}[{seen[source.name]}]",
            )
        seen[source.name] = index
    return sources


def _source(value: _Value) -> SourceConfig:
    value.mapping(_SOURCE_FIELDS)
    name = value.field("name").string(_SOURCE_NAME, "lower snake case (the landing folder)")
    if len(name) > MAX_SOURCE_NAME:
        raise value.field("name").fail(f"{name!r} is longer than {MAX_SOURCE_NAME} characters")
    engine = value.field("engine").choice(tuple(ENGINES))
    database = value.field("database").string(_IDENTIFIER, "a database name")
    default_schema = database if ENGINES[engine].family == "mysql" else POSTGRES_DEFAULT_SCHEMA
    capacity = value.field("capacity")
    return SourceConfig(
        name=name,
        engine=engine,
        database=database,
        secret_arn=value.field("secretArn").string(
            _SECRET_ARN,
            "the full ARN of a Secrets Manager secret (with its six-character suffix)",
        ),
        subnet_ids=value.field("subnetIds").strings(_SUBNET, "subnet ids (two AZs)", 2),
        security_group_ids=value.field("securityGroupIds").strings(
            _SECURITY_GROUP, "security group ids", 1
        ),
        schema=value.field("schema").optional_string(default_schema, _IDENTIFIER, "a schema"),
        ssl_mode=value.field("sslMode").choice(SSL_MODES, DEFAULT_SSL_MODE),
        capacity=None if capacity.value is None else _capacity(capacity, Capacity()),
        key=value.key,
    )


def _capacity(value: _Value, default: Capacity) -> Capacity:
    if value.value is None:
        return default
    value.mapping(("min", "max"))
    bounds = []
    for bound, fallback in (("min", default.min), ("max", default.max)):
        field = value.field(bound)
        number = field.integer(fallback, DCU_VALUES[0], DCU_VALUES[-1])
        if number not in DCU_VALUES:
            raise field.fail(f"{number} is not a DCU size; use one of {DCU_VALUES}")
        bounds.append(number)
    low, high = bounds
    if low > high:
        raise value.field("min").fail(f"{low} is above {value.key}.max ({high})")
    return Capacity(min=low, max=high)


def _replication(value: _Value) -> ReplicationDefaults:
    if value.value is None:
        return ReplicationDefaults()
    value.mapping(("capacity", "multiAz"))
    return ReplicationDefaults(
        capacity=_capacity(value.field("capacity"), Capacity()),
        multi_az=value.field("multiAz").boolean(DEFAULT_MULTI_AZ),
    )


def _trigger(value: _Value) -> TriggerConfig:
    if value.value is None:
        return TriggerConfig()
    if isinstance(value.value, str):
        return TriggerConfig(mode=value.choice(TRIGGER_MODES))
    value.mapping(("mode", "batchSize", "batchWindowSeconds"))
    return TriggerConfig(
        mode=value.field("mode").choice(TRIGGER_MODES, SCHEDULE),
        batch_size=value.field("batchSize").integer(DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE),
        batch_window_seconds=value.field("batchWindowSeconds").integer(
            DEFAULT_BATCH_WINDOW_SECONDS, 1, MAX_BATCH_WINDOW_SECONDS
        ),
    )
