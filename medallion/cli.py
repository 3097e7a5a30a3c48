"""The ``medallion`` command: generate demo data, run layers, inspect and maintain tables."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from medallion.infer.command import add_arguments as add_infer_arguments
from medallion.layout import DEFAULT_ROOT, LAYERS, ROOT_ENV, Lakehouse, Layer
from medallion.results import format_table, summary_table
from medallion.spec import DEFAULT_DOMAIN, DOMAIN_ENV, Domain
from medallion.spec.contract import SAFE_RETENTION_HOURS

log = logging.getLogger("medallion")


class Clock:
    """Prints progress lines with the time elapsed since the command started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = int(time.monotonic() - self.started)
        print(f"[{elapsed // 60:02d}:{elapsed % 60:02d}] {message}", file=sys.stderr, flush=True)


def _lakehouse(args: argparse.Namespace) -> Lakehouse:
    return Lakehouse.at(args.lakehouse)


def _domain(args: argparse.Namespace) -> Domain:
    """The declarations of ``--domain`` (a folder, or a zip of one, local or on S3)."""
    from medallion.storage import load_domain_from

    return load_domain_from(args.domain)


def cmd_check(args: argparse.Namespace) -> int:
    from medallion.spec import inspect_domain

    started = time.monotonic()
    domain, problems = inspect_domain(args.domain)
    seconds = time.monotonic() - started
    for problem in problems:
        print(problem)
    if problems or domain is None:
        print(f"\n{args.domain}: {len(problems)} problem(s) ({seconds:.2f}s)", file=sys.stderr)
        return 1
    print(
        f"{args.domain}: ok, {len(domain.tables)} table(s), {len(domain.gold_models)} gold "
        f"model(s) ({seconds:.2f}s)"
    )
    return 0


#: ``medallion.generate.engine.CHANGE_KINDS``, the first the default: spelled here, since
#: importing the simulator (numpy, pyarrow) would slow every command down by a third of a
#: second (a test keeps the two equal).
CHANGE_KINDS = ("spread", "recent")


def cmd_generate(args: argparse.Namespace) -> int:
    from medallion.generate import generate, parse_batches

    batches = parse_batches(args.batches) if args.batches else None
    clock = Clock()
    lakehouse = _lakehouse(args)
    domain = _domain(args)
    clock(f"generating demo data at scale {args.scale} into {lakehouse.landing}")
    report = generate(
        lakehouse,
        domain=domain,
        scale=args.scale,
        seed=args.seed,
        batches=batches,
        progress=clock,
        changes=args.changes,
        batch_scale=args.batch_scale,
    )
    print(report)
    clock("done")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from medallion.pipeline import run
    from medallion.session import get_spark

    clock = Clock()
    lakehouse = _lakehouse(args)
    domain = _domain(args)
    layers = [layer for layer in LAYERS if not args.layer or layer.value in args.layer]
    clock(f"starting Spark; lakehouse {lakehouse.landing.rsplit('/', 1)[0]}")
    spark = get_spark()
    report = run(
        spark,
        lakehouse,
        domain,
        layers,
        tables=args.table or None,
        max_bad_ratio=args.max_bad_ratio,
        progress=clock,
    )
    if Layer.GOLD in layers and args.preview:
        from medallion.read import read_table

        for model in domain.gold_models:
            print(f"\ngold.{model.name} (first {args.preview} rows)")
            read_table(spark, f"gold.{model.name}", lakehouse).show(args.preview, truncate=False)
    print()
    print(summary_table(report.results))
    failed = report.failures()
    layers_seconds = ", ".join(f"{name} {s:.1f}s" for name, s in report.layer_seconds.items())
    clock(
        f"finished in {report.seconds:.0f}s ({layers_seconds}): "
        + (f"{len(failed)} table(s) FAILED" if failed else "all tables ok")
    )
    return 1 if failed else 0


def cmd_show(args: argparse.Namespace) -> int:
    from medallion.read import read_table
    from medallion.session import get_spark

    read_table(get_spark(), args.table, _lakehouse(args)).show(args.rows, truncate=False)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from medallion.session import get_spark
    from medallion.status import table_status

    rows = table_status(get_spark(), _lakehouse(args), _domain(args))
    print(format_table(("table", "version", "rows", "last run", "quarantined"), rows))
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    from medallion.maintain import maintain
    from medallion.session import get_spark

    layers = [Layer(args.layer)] if args.layer else list(LAYERS)
    results = maintain(
        get_spark(),
        _lakehouse(args),
        retention_hours=args.retention_hours,
        force=args.force,
        layers=layers,
    )
    rows = [
        (
            r.layer,
            r.table,
            r.status,
            r.files_before,
            r.files_after,
            r.stored_before,
            r.stored_after,
        )
        for r in results
    ]
    headers = ("layer", "table", "status", "active files before", "after")
    print(format_table((*headers, "stored files before", "after"), rows))
    for r in results:
        for message in r.messages:
            print(f"  {r.layer}.{r.table}: {message}")
    return 1 if any(r.failed for r in results) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="medallion",
        description="Bronze -> silver -> gold on Spark + Delta Lake, locally or on AWS Glue.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_: str, *, lakehouse: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        if lakehouse:
            sub.add_argument(
                "--lakehouse",
                default=os.environ.get(ROOT_ENV, DEFAULT_ROOT),
                help=f"lakehouse root: a folder or s3://bucket/prefix (default ${ROOT_ENV} or "
                f"{DEFAULT_ROOT})",
            )
        if name != "show":
            sub.add_argument(
                "--domain",
                default=os.environ.get(DOMAIN_ENV) or DEFAULT_DOMAIN,
                help="the folder of table and gold-model declarations (default "
                f"${DOMAIN_ENV} or ./{DEFAULT_DOMAIN})",
            )
        return sub

    check = add(
        "check",
        "validate a domain's declarations without Spark (exit 1 on any problem)",
        lakehouse=False,
    )
    check.set_defaults(func=cmd_check)

    gen = add("generate", "write the demo domain as DMS-style landing files")
    gen.add_argument("--scale", type=float, default=0.05, help="1 = ~1M rows in the largest table")
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument(
        "--batches", help="batches to write: 0 is the full load, then CDC (default 0-3), e.g. 4"
    )
    gen.add_argument(
        "--changes",
        choices=CHANGE_KINDS,
        default=CHANGE_KINDS[0],
        help="CDC batches change rows anywhere in the history (spread, the default) or only "
        "the newest 5%% of each table (recent)",
    )
    gen.add_argument(
        "--batch-scale",
        type=float,
        help="size the CDC batches as at this scale (default: --scale), e.g. --scale 4 "
        "--batch-scale 1 changes as many rows as a batch at scale 1",
    )
    gen.set_defaults(func=cmd_generate)

    run = add("run", "process the landing files through the layers")
    run.add_argument(
        "--layer",
        action="append",
        choices=[layer.value for layer in LAYERS],
        help="only this layer (repeatable; layers run in their order)",
    )
    run.add_argument("--table", action="append", help="only this table or mart (repeatable)")
    run.add_argument("--max-bad-ratio", type=float, help="fail a table above this bad-row ratio")
    run.add_argument("--preview", type=int, default=5, help="rows of each mart to print (0: none)")
    run.set_defaults(func=cmd_run)

    show = add("show", "print the rows of a table, e.g. silver.customers or gold.orders_daily")
    show.add_argument("table", help="<layer>.<table>")
    show.add_argument("-n", "--rows", type=int, default=20)
    show.set_defaults(func=cmd_show)

    status = add("status", "per table: Delta version, rows, last run, quarantined rows")
    status.set_defaults(func=cmd_status)

    maint = add("maintain", "OPTIMIZE and VACUUM every table (of every layer, or of one)")
    maint.add_argument("--layer", choices=[layer.value for layer in LAYERS], help="only this layer")
    maint.add_argument("--retention-hours", type=int, default=SAFE_RETENTION_HOURS)
    maint.add_argument(
        "--force",
        action="store_true",
        help=f"allow retention below {SAFE_RETENTION_HOURS} hours",
    )
    maint.set_defaults(func=cmd_maintain)

    infer_help = "write table declarations from a database catalog or landed files"
    add_infer_arguments(commands.add_parser("infer", help=infer_help, description=infer_help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("py4j", "botocore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except ValueError as error:
        print(f"medallion {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
