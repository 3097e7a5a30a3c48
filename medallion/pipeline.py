"""Runs the layers in order: the one orchestration the CLI, notebooks and Glue jobs share."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.results import TableResult
from medallion.runner import Progress
from medallion.spec import Domain

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class RunReport:
    """Every table's result of one run, in the order they ran."""

    results: list[TableResult] = field(default_factory=list)
    seconds: float = 0.0
    #: Wall time of each layer run (its tables run side by side, so not their sum).
    layer_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.results)

    def failures(self) -> list[TableResult]:
        return [r for r in self.results if r.failed]


def run_layer(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    layer: Layer | str,
    *,
    tables: Sequence[str] | None = None,
    max_bad_ratio: float | None = None,
    progress: Progress | None = None,
) -> list[TableResult]:
    """Run one layer over every table (or the named ones) and return their results.

    ``tables`` may mix source tables and gold marts: each layer takes the names it has.
    """
    layer = Layer(layer)
    marts = {model.name for model in domain.gold_models}
    if layer is Layer.GOLD:
        from medallion.gold import run_gold

        models = None if tables is None else [t for t in tables if t in marts]
        return run_gold(spark, lakehouse, domain, models, progress=progress)
    names = None if tables is None else [t for t in tables if t not in marts]
    if layer is Layer.BRONZE:
        from medallion.bronze import run_bronze

        return run_bronze(spark, lakehouse, domain, names, progress=progress)
    from medallion.silver import run_silver

    options = {} if max_bad_ratio is None else {"max_bad_ratio": max_bad_ratio}
    return run_silver(spark, lakehouse, domain, names, progress=progress, **options)


def run(
    spark: SparkSession,
    lakehouse: Lakehouse,
    domain: Domain,
    layers: Sequence[Layer | str] = LAYERS,
    *,
    tables: Sequence[str] | None = None,
    max_bad_ratio: float | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Run ``layers`` in order. A failed table is reported; the other tables still run."""
    started = time.monotonic()
    report = RunReport()
    for layer in layers:
        name = Layer(layer).value
        if progress:
            progress(f"{name} layer")
        layer_started = time.monotonic()
        report.results.extend(
            run_layer(
                spark,
                lakehouse,
                domain,
                layer,
                tables=tables,
                max_bad_ratio=max_bad_ratio,
                progress=progress,
            )
        )
        report.layer_seconds[name] = time.monotonic() - layer_started
    report.seconds = time.monotonic() - started
    return report
