"""The one place a SparkSession is made: Delta configured, locally or on AWS Glue.

On Glue (``--datalake-formats delta`` plus the Delta ``--conf`` set by the infrastructure) the
session Glue provides is returned as is. Locally, Delta's jars (and ``hadoop-aws`` for ``s3a://``)
are resolved from Maven Central by Spark's own ``spark.jars.packages`` and cached in ``~/.ivy2``,
so a second start needs no network. Notebooks call the same :func:`get_spark`.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from medallion.storage import s3_endpoint

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Versions that AWS Glue 5.1 runs (Spark 3.5.6, Scala 2.12, Hadoop 3.3.6 on Glue; pyspark's
#: bundled Hadoop client is 3.3.4, so hadoop-aws must match that).
DELTA_PACKAGE = "io.delta:delta-spark_2.12:3.3.2"
HADOOP_AWS_PACKAGE = "org.apache.hadoop:hadoop-aws:3.3.4"
#: Maven Central, named explicitly so resolution never depends on another default repository.
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"

#: One shuffle partition per local core: on a laptop every extra partition is one more task
#: whose fixed cost outweighs its share of the work (``make run`` at scale 0.05: 45 s with 4
#: partitions, 39 s with 2, on 2 cores).
CORES = str(max(1, os.cpu_count() or 1))

#: The local driver's JVM (in local mode also the executor), tuned for a run of many small
#: queries on a few cores. The optimising compiler (C2) takes a method after about forty times
#: the usual calls: with the defaults it spent some 22 s of CPU in a 45 s ``make run`` on code
#: that ran a few times. The parallel collector: G1's concurrent marking keeps running over a
#: heap whose live part is small. ``make run`` at scale 0.05 (2 cores): 42-44 s -> 38-39 s;
#: a full run at scale 1: 65-69 s -> 61 s.
LOCAL_JVM_OPTIONS = (
    "-Duser.timezone=UTC -XX:Tier4InvocationThreshold=200000 -XX:Tier4CompileThreshold=400000 "
    "-XX:Tier4BackEdgeThreshold=800000 -XX:+UseParallelGC"
)

#: Local defaults: few partitions, a one-partition Delta log replay, no UI, UTC everywhere.
LOCAL_DEFAULTS: Mapping[str, str] = {
    "spark.sql.extensions": DELTA_EXTENSION,
    "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": CORES,
    "spark.default.parallelism": CORES,
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.extraJavaOptions": LOCAL_JVM_OPTIONS,
    "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
    "spark.driver.memory": "3g",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.databricks.delta.schema.autoMerge.enabled": "false",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.jars.repositories": MAVEN_CENTRAL,
}


#: Below this many input bytes (default; ``$MEDALLION_SMALL_INPUT_BYTES`` overrides it, 0 turns
#: it off), a table's queries run on Spark's interpreted expression evaluators instead of
#: generating and compiling classes for them (see :func:`sized_for`).
SMALL_INPUT_BYTES = 8 * 1024 * 1024
SMALL_INPUT_BYTES_ENV = "MEDALLION_SMALL_INPUT_BYTES"
#: Spark's interpreted evaluators: those it falls back to itself when generated code fails to
#: compile. Spark marks the setting internal; whole-stage code generation is unaffected.
INTERPRETED_EXPRESSIONS: Mapping[str, str] = {"spark.sql.codegen.factoryMode": "NO_CODEGEN"}


def small_input_bytes() -> int:
    """The size below which an input counts as small (``$MEDALLION_SMALL_INPUT_BYTES``)."""
    value = os.environ.get(SMALL_INPUT_BYTES_ENV, str(SMALL_INPUT_BYTES))
    if not value.isdigit():
        raise ValueError(f"{SMALL_INPUT_BYTES_ENV} must be a whole number of bytes, got {value!r}")
    return int(value)


@contextmanager
def sized_for(spark: SparkSession, input_bytes: int | None) -> Iterator[None]:
    """Run the block's queries in the mode that suits an input of ``input_bytes`` (None:
    unknown, taken as large), then restore the session's settings.

    Spark generates and compiles the code of each new projection, predicate or ordering,
    some tens of milliseconds each: a small table's run compiles hundreds of them, each then
    used on a few thousand rows. Below :func:`small_input_bytes` the interpreted evaluators
    cost less (``make run``'s pipeline at scale 0.05 on 2 cores, five runs each: 36-42 s ->
    33-36 s); on a table of a million rows they cost more (silver at scale 1 with every table
    interpreted: +7 s). The session must be the table's own while the block runs: settings are
    session-wide.
    """
    if input_bytes is None or input_bytes >= small_input_bytes():
        yield
        return
    from medallion.delta_io import session_conf  # imports Spark, which is running by now

    with session_conf(spark, INTERPRETED_EXPRESSIONS):
        yield


def running_on_glue() -> bool:
    """True inside an AWS Glue job (the ``awsglue`` package is only present there)."""
    return importlib.util.find_spec("awsglue") is not None


def get_spark(
    app_name: str = "medallion",
    *,
    master: str | None = None,
    s3: bool | None = None,
    conf: Mapping[str, str] | None = None,
) -> SparkSession:
    """Return the SparkSession with Delta configured.

    ``s3`` adds ``hadoop-aws`` for ``s3a://`` paths (default: when ``MEDALLION_S3_ENDPOINT`` or
    ``AWS_ENDPOINT_URL`` is set). ``conf`` overrides any local default. Calling it again returns
    the running session.
    """
    from pyspark.sql import SparkSession

    if running_on_glue():
        return SparkSession.builder.getOrCreate()

    active = SparkSession.getActiveSession()
    if active is not None:
        return active

    if s3 is None:
        s3 = bool(s3_endpoint())
    packages = [DELTA_PACKAGE, *([HADOOP_AWS_PACKAGE] if s3 else [])]
    builder = SparkSession.builder.appName(app_name).master(
        master or os.environ.get("MEDALLION_SPARK_MASTER", "local[*]")
    )
    settings = {**LOCAL_DEFAULTS, "spark.jars.packages": ",".join(packages)}
    if os.environ.get("MEDALLION_DRIVER_MEMORY"):
        settings["spark.driver.memory"] = os.environ["MEDALLION_DRIVER_MEMORY"]
    if s3:
        settings.update(s3a_settings(s3_endpoint()))
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("MEDALLION_SPARK_LOG_LEVEL", "ERROR"))
    return spark


def s3a_settings(endpoint: str | None) -> dict[str, str]:
    """Spark settings that make ``s3a://`` (and ``s3://``) use S3A, at ``endpoint`` if given."""
    settings = {
        "spark.hadoop.fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "com.amazonaws.auth.DefaultAWSCredentialsProviderChain"
        ),
        "spark.delta.logStore.s3a.impl": "io.delta.storage.S3SingleDriverLogStore",
        "spark.delta.logStore.s3.impl": "io.delta.storage.S3SingleDriverLogStore",
    }
    if endpoint:
        settings.update(
            {
                "spark.hadoop.fs.s3a.endpoint": endpoint,
                "spark.hadoop.fs.s3a.path.style.access": "true",
                "spark.hadoop.fs.s3a.connection.ssl.enabled": str(
                    endpoint.startswith("https")
                ).lower(),
                "spark.hadoop.fs.s3a.change.detection.mode": "none",
            }
        )
    return settings
