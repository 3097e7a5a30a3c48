"""The Glue job entry point: one layer's step (``--layer``, ``--action``), the same code as
locally.

Glue runs ``medallion/jobs/glue_entry.py`` with its job arguments (``--key value``)::

    --JOB_NAME <name> --layer bronze|silver|gold|maintain [--action run|maintain]
    --landing-root s3://… --bronze-root s3://… --silver-root s3://… --gold-root s3://…
    [--bronze-database db] [--silver-database db] [--gold-database db]
    [--domain-root s3://…/domain.zip] [--retention-hours 168] [--max-bad-ratio 0.05]

On Glue they are read with ``awsglue.utils.getResolvedOptions``; elsewhere the same names are
parsed with argparse, so a laptop runs exactly what Glue runs. ``--domain-root`` is the domain
folder (or a zip of it), local or on S3; without it ``$MEDALLION_DOMAIN`` or ``./domain``.
Arguments Glue adds on its own (``--JOB_ID``, ``--TempDir``, …) are ignored.

``--action run`` (the default) runs the layer (:func:`medallion.pipeline.run`), then registers
its tables in its catalog database when one is given. ``--action maintain`` maintains the
layer's own tables (:func:`medallion.maintain.maintain`: OPTIMIZE, VACUUM with the contract's
retention), so each layer's job, under its own role, keeps its own tables. ``--layer maintain``
(older job definitions) maintains every layer. The process exits non-zero when any table failed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from medallion.layout import LAYERS, Lakehouse, Layer
from medallion.spec import Domain, domain_path
from medallion.spec.contract import SAFE_RETENTION_HOURS

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from pyspark.sql import SparkSession

log = logging.getLogger("medallion.jobs")


class Action(StrEnum):
    """What a job does with its layer."""

    RUN = "run"
    MAINTAIN = "maintain"


#: ``--layer maintain``: maintain every layer (job definitions from before ``--action``).
MAINTAIN = "maintain"
STEPS = (*(layer.value for layer in LAYERS), MAINTAIN)
#: Arguments every job receives (infra passes the whole layout to every job).
REQUIRED = ("JOB_NAME", "layer", "landing-root", "bronze-root", "silver-root", "gold-root")
#: Arguments a job may receive.
OPTIONAL = (
    "action",
    "domain-root",
    "bronze-database",
    "silver-database",
    "gold-database",
    "retention-hours",
    "max-bad-ratio",
)

Resolver = Callable[[Sequence[str], Sequence[str]], Mapping[str, str | None]]


class Outcome(Protocol):
    """What every per-table result offers (layer, maintenance and catalog results alike)."""

    @property
    def failed(self) -> bool: ...


@dataclass(frozen=True)
class JobOptions:
    """The typed job arguments."""

    job_name: str
    #: The layers the job works on: one, or every layer for ``--layer maintain``.
    layers: tuple[Layer, ...]
    lakehouse: Lakehouse
    action: Action = Action.RUN
    databases: Mapping[Layer, str] = field(default_factory=dict)
    #: Where the declarations are: a folder or a zip of one, local or ``s3://``.
    domain_root: str = field(default_factory=domain_path)
    retention_hours: float | None = None
    max_bad_ratio: float | None = None

    @property
    def step(self) -> str:
        """What the job does, for logs: ``silver`` or ``maintain silver`` (``maintain``: all)."""
        if self.action is Action.RUN:
            return self.layers[0].value
        if self.layers == LAYERS:
            return MAINTAIN
        return f"{MAINTAIN} {' '.join(layer.value for layer in self.layers)}"


@dataclass
class JobReport:
    """Everything one job run did: per-table results of the step and of the registration."""

    step: str
    results: list[Outcome] = field(default_factory=list)
    catalog: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [r for r in [*self.results, *self.catalog] if r.failed]

    @property
    def ok(self) -> bool:
        return not self.failures


def _resolve_locally(argv: Sequence[str], options: Sequence[str]) -> dict[str, str | None]:
    """``getResolvedOptions`` without ``awsglue``: same names, same keys, unknowns ignored."""
    parser = argparse.ArgumentParser(prog="glue_entry.py", allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", required=True)
    parsed, _unknown = parser.parse_known_args(list(argv[1:]))
    return vars(parsed)


def glue_resolver() -> Resolver:
    """``awsglue.utils.getResolvedOptions`` on Glue, the argparse equivalent elsewhere."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        return _resolve_locally
    return getResolvedOptions


def _given(argv: Sequence[str], option: str) -> bool:
    return any(a == f"--{option}" or a.startswith(f"--{option}=") for a in argv)


def _number(values: Mapping[str, str | None], option: str) -> float | None:
    value = values.get(option.replace("-", "_"))
    if value is None or value == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"--{option} must be a number, got {value!r}") from None


def parse_args(argv: Sequence[str], resolver: Resolver | None = None) -> JobOptions:
    """Read the job arguments from ``argv`` (``sys.argv``: the script name first)."""
    wanted = [*REQUIRED, *(o for o in OPTIONAL if _given(argv, o))]
    try:
        values = (resolver or glue_resolver())(argv, wanted)
    except SystemExit as error:  # argparse exits on a missing argument; say which job needs it
        raise ValueError(
            f"job arguments: {', '.join('--' + o for o in REQUIRED)} are required"
        ) from error
    step = str(values["layer"])
    if step not in STEPS:
        raise ValueError(f"--layer must be one of {', '.join(STEPS)}, got {step!r}")
    action_value = str(values.get("action") or Action.RUN.value)
    if action_value not in {a.value for a in Action}:
        names = ", ".join(a.value for a in Action)
        raise ValueError(f"--action must be one of {names}, got {action_value!r}")
    action = Action.MAINTAIN if step == MAINTAIN else Action(action_value)
    layers = LAYERS if step == MAINTAIN else (Layer(step),)
    lakehouse = Lakehouse.of(
        **{part: str(values[f"{part}_root"]) for part in ("landing", "bronze", "silver", "gold")}
    )
    databases = {
        layer: str(values[f"{layer.value}_database"])
        for layer in LAYERS
        if values.get(f"{layer.value}_database")
    }
    return JobOptions(
        job_name=str(values["JOB_NAME"]),
        layers=layers,
        lakehouse=lakehouse,
        action=action,
        databases=databases,
        domain_root=str(values.get("domain_root") or domain_path()),
        retention_hours=_number(values, "retention-hours"),
        max_bad_ratio=_number(values, "max-bad-ratio"),
    )


def run_job(
    spark: SparkSession,
    options: JobOptions,
    domain: Domain | None = None,
    *,
    glue: GlueClient | None = None,
) -> JobReport:
    """Run the step: maintain the layers' tables, or run the layer then register its tables in
    the catalog (when a database is given). ``domain`` defaults to the one at
    ``options.domain_root``."""
    started = time.monotonic()
    if domain is None:
        domain = _load_domain(options.domain_root)
    report = JobReport(step=options.step)
    if options.action is Action.MAINTAIN:
        from medallion.maintain import maintain

        retention = (
            SAFE_RETENTION_HOURS if options.retention_hours is None else options.retention_hours
        )
        report.results.extend(
            maintain(
                spark, options.lakehouse, retention_hours=retention, layers=list(options.layers)
            )
        )
    else:
        from medallion.pipeline import run

        (layer,) = options.layers
        run_report = run(
            spark, options.lakehouse, domain, [layer], max_bad_ratio=options.max_bad_ratio
        )
        report.results.extend(run_report.results)
        database = options.databases.get(layer)
        if database:
            from medallion.catalog import register_layer

            report.catalog.extend(
                register_layer(spark, options.lakehouse, domain, layer, database, client=glue)
            )
    report.seconds = time.monotonic() - started
    return report


def _load_domain(root: str) -> Domain:
    from medallion.storage import load_domain_from

    domain = load_domain_from(root)
    log.info(
        "domain %s: %d table(s), %d gold model(s)",
        root,
        len(domain.tables),
        len(domain.gold_models),
    )
    return domain


def describe(report: JobReport) -> str:
    """The end-of-job summary for the logs."""
    from medallion.results import TableResult, summary_table

    tables = [r for r in report.results if isinstance(r, TableResult)]
    lines: list[str] = []
    if tables:
        lines.append(summary_table(tables))
    lines += [str(r) for r in report.results if not isinstance(r, TableResult)]
    lines += [str(r) for r in report.catalog]
    failures = report.failures
    lines.append(
        f"{report.step} finished in {report.seconds:.0f}s: "
        + (f"{len(failures)} table(s) FAILED" if failures else f"{len(report.results)} table(s) ok")
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Glue's entry: parse the arguments, run the step, exit non-zero if any table failed."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("py4j", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    argv = list(sys.argv if argv is None else argv)
    try:
        options = parse_args(argv)
        # Before Spark starts: a broken declaration fails the job in seconds, naming its file.
        domain = _load_domain(options.domain_root)
    except ValueError as error:
        print(f"glue_entry.py: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None

    from medallion.session import get_spark

    log.info("job %s: step %s on %s", options.job_name, options.step, options.lakehouse)
    spark = get_spark(f"medallion-{options.job_name}")
    report = run_job(spark, options, domain)
    print(describe(report), flush=True)
    if not report.ok:
        names = ", ".join(_name(r) for r in report.failures)
        raise SystemExit(f"{options.job_name}: {len(report.failures)} table(s) failed: {names}")


def _name(result: object) -> str:
    layer = getattr(result, "layer", None) or getattr(result, "database", "")
    return f"{layer}.{getattr(result, 'table', '?')}"
