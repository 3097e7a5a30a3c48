"""A moto server on localhost: a real HTTP S3 + Glue endpoint for boto3, pyarrow and Spark's S3A.

Registered for the whole suite from ``tests/conftest.py``. The server starts once, on a free port,
the first time a test asks for it, and stops at the end of the run: no manual step, no Docker.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from pyspark.sql import SparkSession

REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass(frozen=True)
class Aws:
    """The local AWS endpoint, the environment that reaches it, and a fresh bucket."""

    endpoint: str
    bucket: str
    environ: dict[str, str]

    def client(self, service: str) -> object:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION)

    @property
    def s3(self) -> S3Client:
        return self.client("s3")  # type: ignore[return-value]

    @property
    def glue(self) -> GlueClient:
        return self.client("glue")  # type: ignore[return-value]

    def uri(self, prefix: str) -> str:
        return f"s3://{self.bucket}/{prefix.strip('/')}"


def aws_environ(endpoint: str) -> dict[str, str]:
    """What a process needs to use the endpoint: credentials, region, S3 and Glue endpoints."""
    return {
        **CREDENTIALS,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": endpoint,
        "MEDALLION_S3_ENDPOINT": endpoint,
    }


def configure_s3a(spark: SparkSession, endpoint: str, bucket: str) -> None:
    """Point the running session's S3A at ``endpoint`` for ``bucket`` (per-bucket settings).

    The shared session may have started before the server, so neither its S3A endpoint nor its
    JVM's environment (credentials) know about it; per-bucket options set both, for test buckets
    only.
    """
    from medallion.session import s3a_settings

    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[union-attr]
    settings = {
        key.removeprefix("spark.hadoop.fs.s3a."): value
        for key, value in s3a_settings(endpoint).items()
        if key.startswith("spark.hadoop.fs.s3a.")
    }
    settings.update(
        {
            "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "access.key": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "secret.key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "endpoint.region": REGION,
        }
    )
    for key, value in settings.items():
        conf.set(f"fs.s3a.bucket.{bucket}.{key}", value)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """Start a moto server (S3, Glue, ...) on a free localhost port; stop it at the end."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """The moto endpoint in this test's environment, with a new empty bucket."""
    environ = aws_environ(moto_endpoint)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    found = Aws(moto_endpoint, bucket, {**os.environ, **environ})
    found.s3.create_bucket(Bucket=bucket)
    return found


@pytest.fixture
def s3_spark(spark: SparkSession, aws: Aws) -> SparkSession:
    """The shared session, with S3A pointed at the moto server for this test's bucket."""
    configure_s3a(spark, aws.endpoint, aws.bucket)
    return spark
