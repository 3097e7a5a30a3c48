"""Benchmark: the source simulator behind `medallion generate` (default scale 1).

    python benchmarks/generate.py --scale 1 [--batches 0-3] [--lakehouse DIR]

Prints wall time and peak memory of the run, then rows per table and operation, files and
bytes. Target at scale 1 on a 2-core machine: well under a minute.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
from pathlib import Path

from medallion.generate import generate, parse_batches
from medallion.layout import Lakehouse
from medallion.spec import domain_path, load_domain


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batches", type=parse_batches, default=None, help="e.g. 0-3 or 0,2")
    parser.add_argument("--lakehouse", help="keep the lakehouse here (default: a temp folder)")
    args = parser.parse_args()
    root = Path(args.lakehouse or tempfile.mkdtemp(prefix="medallion-generate-"))
    shutil.rmtree(root / "landing", ignore_errors=True)

    report = generate(
        Lakehouse.at(str(root)),
        domain=load_domain(domain_path()),
        scale=args.scale,
        seed=args.seed,
        batches=args.batches,
    )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(report)
    print(
        f"\nscale {args.scale:g}: {report.seconds:.1f} s wall, peak memory "
        f"{peak_kib / 2**20:.2f} GiB, {report.rows / report.seconds:,.0f} rows/s, "
        f"{report.files} files, {report.bytes / 2**20:.1f} MiB"
    )
    if not args.lakehouse:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
