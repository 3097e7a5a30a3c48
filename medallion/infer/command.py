"""The ``medallion infer`` command; its readers are imported only when it runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from medallion.infer.model import parse_primary_keys

if TYPE_CHECKING:
    from medallion.infer.write import Report


def infer(
    origin: str, source: str, out: Path, primary_keys: dict[str, tuple[str, ...]] | None = None
) -> Report:
    """Read ``origin`` (a database URL or a landing folder) and write ``out/tables/*.yaml``."""
    try:
        from medallion.infer.database import is_database_url, read_database
        from medallion.infer.landing import read_landing
        from medallion.infer.write import write_tables
    except ImportError as error:
        raise ValueError(
            f"needs the infer extra: pip install 'medallion[infer]' ({error})"
        ) from error

    if is_database_url(origin):
        found = read_database(origin, source, primary_keys)
    elif "://" in origin:
        raise ValueError(
            f"--from {origin.split('://', 1)[0]}://…: expected postgresql://, mysql://, "
            "mariadb:// or a landing folder"
        )
    else:
        found = read_landing(Path(origin), source, primary_keys)
    if not found:
        raise ValueError(f"--from: no tables found for source {source!r}")
    return write_tables(found, out)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``infer`` sub-command's options."""
    parser.add_argument(
        "--from",
        dest="origin",
        required=True,
        metavar="URL|FOLDER",
        help="postgresql://user:pass@host/db, mysql://… or mariadb://…, or a landing folder",
    )
    parser.add_argument(
        "--source",
        required=True,
        help="the DMS schema (the landing/<source>/ folder); for MySQL/MariaDB the database",
    )
    parser.add_argument("--out", default="domain", help="the domain folder (default ./domain)")
    parser.add_argument(
        "--primary-key",
        action="append",
        metavar="TABLE=COL[,COL]",
        help="the key of a table the source gives none for (repeatable)",
    )
    parser.set_defaults(func=run_command)


def run_command(args: argparse.Namespace) -> int:
    """Write the declarations, print the report; exit status 1 when a conflict needs a person."""
    report = infer(args.origin, args.source, Path(args.out), parse_primary_keys(args.primary_key))
    print(report)
    return 1 if report.conflicts else 0
