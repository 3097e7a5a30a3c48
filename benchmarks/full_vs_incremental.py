"""Benchmark: a full run of all layers, then incremental runs after one ~1% CDC batch of each kind.

    python benchmarks/full_vs_incremental.py --scale 1

Generates batches 0-2 and runs every layer (the full run), reruns with nothing new, then, on a
copy of that lakehouse per kind, writes CDC batch 3 and runs again (the incremental run):

* ``recent``: updates and deletes among each table's newest 5% of rows (what OLTP databases
  mostly produce);
* ``spread``: updates and deletes anywhere in the history (the worst case for a MERGE).

Prints wall time and peak memory (driver + JVM) of each run, the seconds of each layer inside
it, incremental / full per kind, and per silver table the files its MERGE rewrote of the files
it held. Targets (issue tracker, 2-core machine): full run at scale 1 under 60 s, peak memory at
scale 4 under 4 GiB, a recent batch's incremental run at scale 4 at most 20% of the full run,
and a rerun with nothing new under 10 s after Spark has started.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from measure import Measurement, lakehouse_arguments, lakehouse_folder, measure, medallion

LAYERS = ("bronze", "silver", "gold")
KINDS = ("recent", "spread")


def layer_seconds(run: Measurement) -> dict[str, float]:
    """Wall time per layer, from the run's last line (``finished in 90s (bronze 19.2s, ...)``)."""
    found = re.findall(r"(bronze|silver|gold) ([0-9.]+)s", run.output.rsplit("finished in", 1)[-1])
    return {layer: float(seconds) for layer, seconds in found}


def rewritten(run: Measurement) -> dict[str, tuple[int, int]]:
    """Silver table -> (files its MERGE rewrote, files it held), from the run's notes."""
    found = re.findall(r"silver\.(\w+): MERGE rewrote (\d+) of (\d+) file", run.output)
    return {table: (int(files), int(held)) for table, files, held in found}


def main() -> int:
    args = lakehouse_arguments(__doc__)
    with lakehouse_folder(args.lakehouse) as root:
        base = root / "base"

        def generate(where: Path, batches: str, *extra: str) -> list[str]:
            return medallion(
                "generate", "--lakehouse", str(where), "--scale", str(args.scale),
                "--batches", batches, *extra,
            )  # fmt: skip

        def run(where: Path) -> list[str]:
            return medallion("run", "--lakehouse", str(where), "--preview", "0")

        steps = {
            "generate batches 0-2": measure(generate(base, "0-2")),
            "full run (all layers)": measure(run(base)),
            "rerun (nothing new)": measure(run(base)),
        }
        for kind in KINDS:
            copy = root / kind
            shutil.copytree(base, copy)
            steps[f"generate batch 3 ({kind})"] = measure(generate(copy, "3", "--changes", kind))
            steps[f"incremental run ({kind})"] = measure(run(copy))
            shutil.rmtree(copy)
    print(f"\nscale {args.scale}")
    header = f"{'step':<30}{'wall s':>9}{'peak GiB':>10}{'exit':>6}"
    print(header + "".join(f"{x:>9}" for x in LAYERS))
    for name, m in steps.items():
        layers = layer_seconds(m)
        print(
            f"{name:<30}{m.seconds:>9.1f}{m.peak_gib:>10.2f}{m.returncode:>6}"
            + "".join(f"{layers[x]:>9.1f}" if x in layers else f"{'':>9}" for x in LAYERS)
        )
    print("(layer columns: wall seconds of each layer inside the run, Spark start excluded)")
    full = steps["full run (all layers)"]
    for kind in KINDS:
        incremental = steps[f"incremental run ({kind})"]
        print(f"incremental / full, {kind} batch: {incremental.seconds / full.seconds:.1%}")
    print("\nfiles rewritten by each silver MERGE (of the files the table held):")
    files = {kind: rewritten(steps[f"incremental run ({kind})"]) for kind in KINDS}
    print(f"  {'table':<20}" + "".join(f"{kind:>16}" for kind in KINDS))
    for table in sorted({t for found in files.values() for t in found}):
        cells = [files[k].get(table) for k in KINDS]
        print(f"  {table:<20}" + "".join(f"{f'{c[0]} of {c[1]}' if c else '-':>16}" for c in cells))
    return max(m.returncode for m in steps.values())


if __name__ == "__main__":
    sys.exit(main())
