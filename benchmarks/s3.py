"""Benchmark: the pipeline on S3 (a local moto server) against the same run on local disk.

    python benchmarks/s3.py --scale 0.01

Starts a moto server on a free port, generates the same landing files into ``s3://…/lake`` and
into a temp folder, warms the JVM up with one small run, then times every layer on both and runs
``maintain`` on the S3 lakehouse. Prints per-layer seconds, S3 requests per layer, active files
before/after compaction, and what a fresh machine downloads for S3 (the hadoop-aws jars).
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

IVY_JARS = Path.home() / ".ivy2" / "jars"
#: Jars each optional part adds to a fresh machine (resolved by Spark into ~/.ivy2).
DOWNLOADS = {
    "S3 (hadoop-aws)": (
        "org.apache.hadoop_hadoop-aws",
        "com.amazonaws_aws-java-sdk-bundle",
        "org.wildfly.openssl_wildfly-openssl",
    ),
    "Delta": ("io.delta_delta-spark", "io.delta_delta-storage", "org.antlr_antlr4-runtime"),
}


def download_sizes() -> dict[str, tuple[int, list[str]]]:
    """Bytes and jar names per part, from the local ivy cache."""
    sizes = {}
    for part, prefixes in DOWNLOADS.items():
        jars = [p for p in IVY_JARS.glob("*.jar") if p.name.startswith(prefixes)]
        sizes[part] = (sum(p.stat().st_size for p in jars), sorted(p.name for p in jars))
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.01)
    args = parser.parse_args()

    from moto.moto_server import werkzeug_app
    from moto.server import ThreadedMotoServer

    requests: collections.Counter[str] = collections.Counter()

    def count(handler: object, *_args: object) -> None:
        requests[getattr(handler, "command", "?")] += 1

    werkzeug_app.MotoRequestHandler.log_request = count  # type: ignore[method-assign]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    from tests.e2e.moto import aws_environ, configure_s3a

    os.environ.update(aws_environ(endpoint))
    import boto3

    from medallion.generate import generate
    from medallion.layout import LAYERS, Lakehouse
    from medallion.maintain import maintain
    from medallion.pipeline import run
    from medallion.session import get_spark
    from medallion.spec import domain_path, load_domain

    domain = load_domain(domain_path())
    spark = get_spark("medallion-bench-s3", s3=True)
    lakes = {}
    for name in ("warmup", "s3"):
        bucket = f"bench-{name}"
        boto3.client("s3").create_bucket(Bucket=bucket)
        configure_s3a(spark, endpoint, bucket)
        lakes[name] = Lakehouse.at(f"s3://{bucket}/lake")
    lakes["local"] = Lakehouse.at(tempfile.mkdtemp(prefix="medallion-bench-s3-") + "/lake")
    for name, lake in lakes.items():
        generate(
            lake, domain=domain, scale=0.001 if name == "warmup" else args.scale, batches=[0, 1]
        )
    run(spark, lakes["warmup"], domain)

    print(f"\nscale {args.scale}, batches 0-1, all layers (warm JVM)")
    print(f"{'layer':<8}{'local s':>9}{'S3 s':>8}{'S3 requests':>13}")
    for layer in LAYERS:
        seconds = {}
        for name in ("local", "s3"):
            requests.clear()
            started = time.monotonic()
            report = run(spark, lakes[name], domain, [layer])
            seconds[name] = time.monotonic() - started
            if not report.ok:
                print(
                    f"{name} {layer} FAILED: {[m for r in report.failures() for m in r.messages]}"
                )
        print(
            f"{layer:<8}{seconds['local']:>9.1f}{seconds['s3']:>8.1f}{sum(requests.values()):>13}"
        )

    started = time.monotonic()
    results = maintain(spark, lakes["s3"])
    print(f"\nmaintain on S3: {time.monotonic() - started:.1f}s")
    for result in results:
        print(f"  {result}")

    print("\nDownloaded once by a fresh machine into ~/.ivy2/jars:")
    for part, (size, jars) in download_sizes().items():
        print(f"  {part:<16}{size / 2**20:>8.1f} MiB  {', '.join(jars)}")
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
