"""Benchmark: where each second of a run goes, per layer and table.

    python benchmarks/breakdown.py --scale 0.05

Generates the demo at ``--scale`` into a fresh lakehouse, then runs every layer one table at a
time (``MEDALLION_PARALLELISM=1``) in one Spark session with Spark's event log on, and prints per
table: the wall seconds, the Spark jobs it ran, their summed duration and task count, and the
rest (driver-side work: planning, Delta log replay and commits, Python <-> JVM calls). Then
each layer's totals, and the same run again with nothing new (the rerun).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from medallion import pipeline
from medallion.generate import generate
from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.session import get_spark
from medallion.spec import Domain, domain_path, load_domain


@dataclass
class Jobs:
    count: int = 0
    seconds: float = 0.0
    tasks: int = 0


def jobs_by_group(event_log: Path) -> dict[str, Jobs]:
    """Spark jobs of the event log, summed per job group (one group per table)."""
    started: dict[int, tuple[str, int, int]] = {}
    found: dict[str, Jobs] = defaultdict(Jobs)
    with event_log.open() as events:
        for line in events:
            event = json.loads(line)
            if event["Event"] == "SparkListenerJobStart":
                group = event.get("Properties", {}).get("spark.jobGroup.id") or "-"
                tasks = sum(stage["Number of Tasks"] for stage in event["Stage Infos"])
                started[event["Job ID"]] = (group, event["Submission Time"], tasks)
            elif event["Event"] == "SparkListenerJobEnd" and event["Job ID"] in started:
                group, submitted, tasks = started[event["Job ID"]]
                jobs = found[group]
                jobs.count += 1
                jobs.seconds += (event["Completion Time"] - submitted) / 1000
                jobs.tasks += tasks
    return found


def names(domain: Domain, layer: Layer) -> list[str]:
    if layer is Layer.GOLD:
        return [model.name for model in domain.gold_models]
    return [table.name for table in domain.tables]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=0.05)
    args = parser.parse_args()
    os.environ["MEDALLION_PARALLELISM"] = "1"
    root = Path(tempfile.mkdtemp(prefix="medallion-breakdown-"))
    events = root / "events"
    events.mkdir()
    try:
        domain = load_domain(domain_path())
        lakehouse = Lakehouse.at(str(root / "lakehouse"))
        generate(lakehouse, domain=domain, scale=args.scale)
        conf = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": str(events)}
        spark = get_spark("medallion-breakdown", conf=conf)
        spark.range(1).count()  # Spark's start is not the run's
        wall: dict[str, float] = {}
        for run in ("run", "rerun"):
            for layer in LAYERS:
                for name in names(domain, layer):
                    group = f"{run}:{layer.value}.{name}"
                    spark.sparkContext.setJobGroup(group, group)
                    started = time.monotonic()
                    pipeline.run_layer(spark, lakehouse, domain, layer, tables=[name])
                    wall[group] = time.monotonic() - started
        spark.stop()
        jobs = jobs_by_group(next(events.iterdir()))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"\nscale {args.scale}, one table at a time")
    print(f"{'run':<6}{'table':<28}{'wall s':>8}{'jobs':>6}{'job s':>8}{'tasks':>7}{'rest s':>8}")
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0.0])
    for group, seconds in wall.items():
        run, table = group.split(":", 1)
        found = jobs.get(group, Jobs())
        rest = seconds - found.seconds
        print(
            f"{run:<6}{table:<28}{seconds:>8.2f}{found.count:>6}{found.seconds:>8.2f}"
            f"{found.tasks:>7}{rest:>8.2f}"
        )
        total = totals[f"{run} {table.split('.')[0]}"]
        total[0] += seconds
        total[1] += found.count
        total[2] += found.seconds
    print("\nper layer:")
    for key, (seconds, count, job_seconds) in totals.items():
        print(
            f"  {key:<14} wall {seconds:6.1f}s  jobs {int(count):4d}  in jobs {job_seconds:5.1f}s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
