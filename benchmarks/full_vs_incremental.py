"""Benchmark: a full run of all layers, then an incremental run after one ~1% CDC batch.

    python benchmarks/full_vs_incremental.py --scale 1

Prints wall time and peak memory (driver + JVM) of each, and incremental / full.
Targets at scale 1 on a 2-core machine: full run under 5 minutes, peak memory under 6 GiB,
incremental at most 15% of full.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measurement, lakehouse_arguments, lakehouse_folder, measure, medallion

LAYERS = ("bronze", "silver", "gold")


def layer_seconds(run: Measurement) -> dict[str, float]:
    """Wall time per layer, from the run's last line (``finished in 90s (bronze 19.2s, ...)``)."""
    found = re.findall(r"(bronze|silver|gold) ([0-9.]+)s", run.output.rsplit("finished in", 1)[-1])
    return {layer: float(seconds) for layer, seconds in found}


def main() -> int:
    args = lakehouse_arguments(__doc__)
    with lakehouse_folder(args.lakehouse) as root:
        lake = ["--lakehouse", str(root)]
        generate = medallion("generate", *lake, "--scale", str(args.scale), "--batches")
        run = medallion("run", *lake, "--preview", "0")
        steps = {
            "generate batches 0-2": measure([*generate, "0-2"]),
            "full run (all layers)": measure(run),
            "generate batch 3 (CDC)": measure([*generate, "3"]),
            "incremental run": measure(run),
            "rerun (nothing new)": measure(run),
        }
    print(f"\nscale {args.scale}")
    header = f"{'step':<26}{'wall s':>9}{'peak GiB':>10}{'exit':>6}"
    print(header + "".join(f"{x:>9}" for x in LAYERS))
    for name, m in steps.items():
        layers = layer_seconds(m)
        print(
            f"{name:<26}{m.seconds:>9.1f}{m.peak_gib:>10.2f}{m.returncode:>6}"
            + "".join(f"{layers[x]:>9.1f}" if x in layers else f"{'':>9}" for x in LAYERS)
        )
    print("(layer columns: wall seconds of each layer inside the run, Spark start excluded)")
    full, incremental = steps["full run (all layers)"], steps["incremental run"]
    print(f"incremental / full: {incremental.seconds / full.seconds:.1%}")
    return max(m.returncode for m in steps.values())


if __name__ == "__main__":
    sys.exit(main())
