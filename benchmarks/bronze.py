"""Benchmark: `medallion generate` and the bronze run at a given scale (default 1).

    python benchmarks/bronze.py --scale 1

Prints wall time and peak memory (driver + JVM) of each step, and bronze rows per second.
Targets at scale 1 on a 2-core machine: bronze under 2 minutes, peak memory under 4 GiB.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import lakehouse_arguments, lakehouse_folder, measure, medallion


def main() -> int:
    args = lakehouse_arguments(__doc__)
    with lakehouse_folder(args.lakehouse) as root:
        lake = ["--lakehouse", str(root)]
        generate = measure(medallion("generate", *lake, "--scale", str(args.scale)))
        bronze = measure(medallion("run", "--layer", "bronze", *lake))
        rerun = measure(medallion("run", "--layer", "bronze", *lake))
        rows = _bronze_rows(root)
    print(f"\nscale {args.scale}: {rows:,} bronze rows")
    print(f"{'step':<22}{'wall s':>9}{'peak GiB':>10}{'exit':>6}")
    for name, m in (
        ("generate", generate),
        ("bronze run", bronze),
        ("bronze rerun (no-op)", rerun),
    ):
        print(f"{name:<22}{m.seconds:>9.1f}{m.peak_gib:>10.2f}{m.returncode:>6}")
    print(f"bronze throughput: {rows / bronze.seconds:,.0f} rows/s (including Spark start-up)")
    return max(generate.returncode, bronze.returncode, rerun.returncode)


def _bronze_rows(root: Path) -> int:
    import pyarrow.dataset as ds

    total = 0
    for table in sorted((root / "bronze").iterdir()):
        files = [str(p) for p in table.glob("*.parquet")]
        total += ds.dataset(files).count_rows() if files else 0
    return total


if __name__ == "__main__":
    sys.exit(main())
