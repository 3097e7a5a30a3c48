"""Benchmark: the same recent-key CDC batch, in rows, applied to a small and a large lakehouse.

    python benchmarks/batch_size.py --scales 1 4

For each scale: generate batches 0-2 and run every layer (the full run), then write batch 3 as
a ``recent`` batch sized as at the first scale (``--batch-scale``, so every lakehouse gets about
as many changed rows) and run again (the incremental run). Prints, side by side, the rows the
batch landed, the wall time and the seconds of each layer of both runs, and each incremental
run against the first scale's. Target (issue tracker, 2-core machine): at scale 4 at most 1.5
times the incremental run at scale 1, the cost following the change, not the table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from full_vs_incremental import LAYERS, layer_seconds
from measure import Measurement, measure, medallion

from medallion.generate.manifest import MANIFEST_PATH
from medallion.layout import Lakehouse
from medallion.spec import domain_path, load_domain


def batch_rows(lakehouse: Path, batch: int) -> int:
    """Rows of the landing files the manifest lists for ``batch`` (CSV lines, Parquet rows):
    its changes, without the copy of the previous batch's first file it redelivers (bronze
    recognises that copy and skips it; the generator's own report counts it)."""
    import pyarrow.parquet as pq

    where = Lakehouse.at(str(lakehouse))
    domain = load_domain(domain_path())
    manifest = json.loads((Path(where.landing) / MANIFEST_PATH).read_text())
    rows = 0
    for table, keys in manifest["batches"][str(batch)]["files"].items():
        for key in keys:
            path = Path(where.landing_dir(domain.table(table))) / key
            if path.suffix == ".parquet":
                rows += pq.ParquetFile(path).metadata.num_rows
            else:
                rows += max(0, len(path.read_bytes().splitlines()) - 1)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 4.0])
    args = parser.parse_args()
    batch_scale = str(args.scales[0])
    found: dict[float, tuple[int, Measurement, Measurement]] = {}
    for scale in args.scales:
        root = Path(tempfile.mkdtemp(prefix="medallion-batch-size-"))
        where = str(root / "lakehouse")
        try:
            common = ["--lakehouse", where, "--scale", str(scale)]
            measure(medallion("generate", *common, "--batches", "0-2"))
            full = measure(medallion("run", "--lakehouse", where, "--preview", "0"))
            measure(
                medallion(
                    "generate", *common, "--batches", "3", "--changes", "recent",
                    "--batch-scale", batch_scale,
                )
            )  # fmt: skip
            rows = batch_rows(root / "lakehouse", 3)
            incremental = measure(medallion("run", "--lakehouse", where, "--preview", "0"))
            found[scale] = (rows, full, incremental)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"\nrecent batch 3 sized as at scale {batch_scale}, at each scale")
    print(
        f"{'scale':>6}{'batch rows':>12}{'full s':>9}{'incr s':>9}{'exit':>6}"
        + "".join(f"{'incr ' + x:>13}" for x in LAYERS)
        + f"{'incr / first':>14}"
    )
    first = found[args.scales[0]][2].seconds
    for scale, (rows, full, incremental) in found.items():
        layers = layer_seconds(incremental)
        print(
            f"{scale:>6g}{rows:>12,}{full.seconds:>9.1f}{incremental.seconds:>9.1f}"
            f"{max(full.returncode, incremental.returncode):>6}"
            + "".join(f"{layers.get(x, float('nan')):>13.1f}" for x in LAYERS)
            + f"{incremental.seconds / first:>13.2f}x"
        )
    for scale, (_, full, incremental) in found.items():
        for line in (full.output + incremental.output).splitlines():
            if " FAILED " in f" {line} ":
                print(f"scale {scale:g}: {line.strip()}")
    return max(max(f.returncode, i.returncode) for _, f, i in found.values())


if __name__ == "__main__":
    sys.exit(main())
