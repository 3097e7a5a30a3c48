"""Benchmark: the gold layer alone, full versus incremental, on synthetic silver tables.

    python benchmarks/gold.py --scale 1

Writes silver-shaped Delta tables (Change Data Feed on) with the demo domain's sizes at scale 1
(50k clients, 60k addresses, 200 sales people, 2k products, 300k sales over two years, 1M items,
20k employees), then times, in one Spark session:

1. the first gold run (every mart written in full);
2. a change batch applied to silver with MERGEs (as silver does), shaped like the generator's
   CDC at ``--fraction`` (default 1%) of the sales: new sales, pending ones settling, a few old
   sales cancelled and old items changed anywhere in the history, prices, sales people moving
   region (every month of theirs), clients, addresses, employees;
3. the incremental gold run that follows (each mart on the path the runner chooses), the same
   run with the scoped path always tried (``SCOPED_MIN_FULL_SECONDS`` at 0: what the scoped
   path costs where the runner would not take it), and a full recompute of a copy of the same
   lakehouse (state removed: every mart recomputed, the difference merged), alternating on
   fresh copies for ``--rounds`` rounds (the last one is reported: same warm JVM for all),
   checked equal;
4. a rerun with nothing new.

Two batches are measured: recent changes only (new and settling sales, prices, clients,
salaries), and changes anywhere in the history as well (old sales cancelled, old items
changed, sales people moving region, addresses moving), whose scopes span most dates and
every month.

Prints each step's wall time, per-mart seconds and messages, and incremental / full; then,
per model and batch, the seconds and gold rows written of the incremental refresh and of the full
recompute. It runs the gold models of the domain at ``$MEDALLION_DOMAIN`` or ``./domain`` (the
demo's marts: SQL models, whose scopes are derived from the query).
Marts run concurrently (``--parallelism``), so per-mart seconds overlap unless it is 1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from medallion.gold import run_gold
from medallion.gold import runner as gold_runner
from medallion.gold.state import state_path
from medallion.layout import Lakehouse, Layer
from medallion.results import TableResult
from medallion.session import get_spark
from medallion.spec import domain_path, load_domain

SIZES = {
    "clients": 50_000,
    "client_addresses": 60_000,
    "sales_people": 200,
    "products": 2_000,
    "sales": 300_000,
    "sales_items": 1_000_000,
    "employees": 20_000,
}
START = "2023-01-01 00:00:00"
SECONDS = 2 * 365 * 86_400


def pick(seed: int, values: list[str]) -> Column:
    return F.element_at(
        F.array(*[F.lit(v) for v in values]), (rnd(seed, len(values)) + 1).cast("int")
    )


def rnd(seed: int, modulo: int) -> Column:
    """A deterministic pseudo-random integer in ``[0, modulo)`` per row of ``id``."""
    return F.pmod(F.xxhash64(F.col("id"), F.lit(seed)), F.lit(modulo))


def silver_tables(spark: SparkSession, scale: float) -> dict[str, DataFrame]:
    n = {name: max(10, int(size * scale)) for name, size in SIZES.items()}
    ids = {name: spark.range(1, count + 1) for name, count in n.items()}
    ts = F.timestamp_seconds(F.unix_timestamp(F.lit(START)) + rnd(7, SECONDS))
    return {
        "clients": ids["clients"].select(
            F.col("id").alias("client_id"),
            F.concat(F.lit("client "), F.col("id")).alias("name"),
            F.concat(F.lit("c"), F.col("id"), F.lit("@x.io")).alias("email"),
            F.lit(None).cast("string").alias("phone"),
            F.date_add(F.lit("1950-01-01").cast("date"), rnd(1, 18_000).cast("int")).alias(
                "birth_date"
            ),
            ts.alias("created_at"),
            ts.alias("updated_at"),
        ),
        "client_addresses": ids["client_addresses"].select(
            F.col("id").alias("address_id"),
            (rnd(2, n["clients"]) + 1).alias("client_id"),
            F.lit("1 Main St").alias("street"),
            F.lit("Springfield").alias("city"),
            pick(3, ["CA", "NY", "TX", "WA", "FL"]).alias("state"),
            F.lit("12345").alias("zip_code"),
            F.lit("US").alias("country"),
            (rnd(4, 10) < 8).alias("is_primary"),
        ),
        "sales_people": ids["sales_people"].select(
            F.col("id").alias("sales_person_id"),
            F.concat(F.lit("person "), F.col("id")).alias("name"),
            F.concat(F.lit("p"), F.col("id"), F.lit("@x.io")).alias("email"),
            pick(5, ["north", "south", "east", "west"]).alias("region"),
            F.lit("2020-01-01").cast("date").alias("hire_date"),
            F.lit(True).alias("active"),
        ),
        "products": ids["products"].select(
            F.col("id").alias("product_id"),
            F.concat(F.lit("product "), F.col("id")).alias("name"),
            pick(6, ["books", "games", "garden", "kitchen", "toys", "tools"]).alias("category"),
            ((rnd(8, 49_800) + 199) / 100).cast("decimal(10,2)").alias("unit_price"),
            F.lit(True).alias("active"),
        ),
        "sales": ids["sales"].select(
            F.col("id").alias("sale_id"),
            (rnd(9, n["clients"]) + 1).alias("client_id"),
            (rnd(10, n["sales_people"]) + 1).alias("sales_person_id"),
            ts.alias("sale_ts"),
            F.when(rnd(11, 10) < 9, "completed")
            .when(rnd(12, 2) == 0, "cancelled")
            .otherwise("pending")
            .alias("status"),
            F.lit(0).cast("decimal(12,2)").alias("total_amount"),
        ),
        "sales_items": ids["sales_items"].select(
            F.col("id").alias("sale_item_id"),
            (rnd(13, n["sales"]) + 1).alias("sale_id"),
            (rnd(14, n["products"]) + 1).alias("product_id"),
            (rnd(15, 5) + 1).cast("int").alias("quantity"),
            ((rnd(16, 49_800) + 199) / 100).cast("decimal(10,2)").alias("unit_price"),
            (rnd(17, 4) * 0.05).cast("decimal(4,3)").alias("discount"),
        ),
        "employees": ids["employees"].select(
            F.col("id").alias("employee_id"),
            F.concat(F.lit("employee "), F.col("id")).alias("name"),
            (rnd(18, 50) + 18).cast("int").alias("age"),
            (rnd(19, 10) < 9).alias("active"),
            ((rnd(20, 900_000) + 100_000) / 100).cast("decimal(12,2)").alias("salary"),
            F.date_add(F.lit("2023-01-01").cast("date"), rnd(21, 730).cast("int")).alias(
                "reference_date"
            ),
        ),
    }


def change_batch(
    tables: dict[str, DataFrame], fraction: float, *, spread: bool
) -> dict[str, DataFrame]:
    """Upserts per table, shaped like the demo generator's CDC at ``fraction`` of the sales.

    Always: new sales (with items) on the last day, sales of the last week settling, prices
    changed, clients renamed, employees' salaries updated. With ``spread`` also what touches
    the whole history: a few old sales cancelled and old items requantified anywhere, sales
    people moving region (every month of theirs), addresses moving.
    """

    def share(df: DataFrame, key: str, seed: int, rate: float) -> DataFrame:
        return df.filter(F.pmod(F.xxhash64(key, F.lit(seed)), F.lit(1_000_000)) < rate * 1e6)

    sales, items = tables["sales"], tables["sales_items"]
    last_week = F.col("sale_ts") >= F.lit("2024-12-24").cast("timestamp")
    new_sales = share(sales, "sale_id", 30, 0.8 * fraction).select(
        (F.col("sale_id") + 10_000_000).alias("sale_id"),
        "client_id",
        "sales_person_id",
        F.lit("2024-12-31 12:00:00").cast("timestamp").alias("sale_ts"),
        F.when(F.col("sale_id") % 2 == 0, "completed").otherwise("pending").alias("status"),
        "total_amount",
    )
    new_items = items.join(share(sales, "sale_id", 30, 0.8 * fraction).select("sale_id"), "sale_id")
    new_items = new_items.select(
        (F.col("sale_item_id") + 10_000_000).alias("sale_item_id"),
        (F.col("sale_id") + 10_000_000).alias("sale_id"),
        "product_id",
        "quantity",
        "unit_price",
        "discount",
    )
    settled = share(sales.filter(last_week), "sale_id", 31, 0.5).withColumn(
        "status", F.lit("completed")
    )
    cancelled = share(sales.filter(~last_week), "sale_id", 32, 0.1 * fraction).withColumn(
        "status", F.lit("cancelled")
    )
    requantified = share(items, "sale_item_id", 33, 0.05 * fraction).withColumn(
        "quantity", F.col("quantity") + 1
    )
    batch = {
        "sales": new_sales.unionByName(settled).unionByName(cancelled),
        "sales_items": new_items.unionByName(requantified),
        "products": share(tables["products"], "product_id", 34, fraction).withColumn(
            "unit_price", (F.col("unit_price") * 1.1).cast("decimal(10,2)")
        ),
        "sales_people": share(tables["sales_people"], "sales_person_id", 35, fraction).withColumn(
            "region", F.lit("central")
        ),
        "clients": share(tables["clients"], "client_id", 36, fraction).withColumn(
            "name", F.concat(F.col("name"), F.lit(" jr"))
        ),
        "client_addresses": share(
            tables["client_addresses"], "address_id", 37, fraction
        ).withColumn("state", F.lit("NV")),
        "employees": share(tables["employees"], "employee_id", 38, fraction).withColumn(
            "salary", (F.col("salary") * 1.05).cast("decimal(12,2)")
        ),
    }
    if not spread:
        batch["sales"] = new_sales.unionByName(settled)
        batch["sales_items"] = new_items
        del batch["sales_people"], batch["client_addresses"]
    return batch


def upsert(spark: SparkSession, path: str, key: str, rows: DataFrame) -> None:
    from delta.tables import DeltaTable

    DeltaTable.forPath(spark, path).alias("t").merge(
        rows.alias("s"), f"t.{key} = s.{key}"
    ).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()


def timed(label: str, results: list[TableResult], seconds: float) -> float:
    print(f"\n{label}: {seconds:.1f}s")
    for r in results:
        print(f"  {r.table:<22}{r.status.value:<7}{r.seconds:>7.1f}s  {' '.join(r.messages)}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--fraction", type=float, default=0.01, help="share of rows changed")
    parser.add_argument("--rounds", type=int, default=2, help="timings kept from the last round")
    parser.add_argument("--lakehouse", help="work below this folder (default: a temp folder)")
    parser.add_argument("--parallelism", type=int, default=None, help="marts refreshed at once")
    args = parser.parse_args()
    base = Path(args.lakehouse or tempfile.mkdtemp(prefix="medallion-gold-bench-"))
    shutil.rmtree(base, ignore_errors=True)
    domain = load_domain(domain_path())
    spark = get_spark("medallion-gold-bench")
    folders = {name: base / name for name in ("loaded", "changed", "incremental", "scoped", "full")}
    lakehouse = {name: Lakehouse.at(str(folder)) for name, folder in folders.items()}

    last: dict[str, list[TableResult]] = {}

    def gold(label: str, where: Lakehouse) -> float:
        started = time.monotonic()
        results = run_gold(spark, where, domain, parallelism=args.parallelism)
        if any(r.failed for r in results):
            raise SystemExit(f"{label}: {[r.messages for r in results if r.failed]}")
        last[label.split(":")[-1].strip()] = results
        return timed(label, results, time.monotonic() - started)

    def copy(source: str, target: str) -> None:
        shutil.rmtree(folders[target], ignore_errors=True)
        shutil.copytree(folders[source], folders[target])

    started = time.monotonic()
    tables = silver_tables(spark, args.scale)
    for name, df in tables.items():
        df.write.format("delta").option("delta.enableChangeDataFeed", "true").save(
            lakehouse["loaded"].table_path(Layer.SILVER, name)
        )
    print(f"silver written in {time.monotonic() - started:.1f}s (scale {args.scale})")
    first = gold("first run (write every mart)", lakehouse["loaded"])

    summary = []
    for spread in (False, True):
        kind = "changes anywhere in the history" if spread else "recent changes only"
        copy("loaded", "changed")
        silver = {
            name: spark.read.format("delta").load(
                lakehouse["changed"].table_path(Layer.SILVER, name)
            )
            for name in tables
        }
        started = time.monotonic()
        for name, rows in change_batch(silver, args.fraction, spread=spread).items():
            key = domain.table(name).primary_key[0]
            upsert(spark, lakehouse["changed"].table_path(Layer.SILVER, name), key, rows)
        print(f"\n=== {kind}: applied to silver in {time.monotonic() - started:.1f}s")
        # Incremental and full alternate on fresh copies; the last round is kept (warm JVM).
        for round_ in range(1, args.rounds + 1):
            copy("changed", "incremental")
            copy("changed", "scoped")
            copy("changed", "full")
            for model in domain.gold_models:
                os.remove(state_path(lakehouse["full"].gold, model.name))
            incremental = gold(f"round {round_}: incremental run", lakehouse["incremental"])
            floor, gold_runner.SCOPED_MIN_FULL_SECONDS = gold_runner.SCOPED_MIN_FULL_SECONDS, 0.0
            try:
                scoped = gold(f"round {round_}: scoped path tried", lakehouse["scoped"])
            finally:
                gold_runner.SCOPED_MIN_FULL_SECONDS = floor
            full = gold(f"round {round_}: full recompute (state removed)", lakehouse["full"])
        fulls = {r.table: r for r in last["full recompute (state removed)"]}
        tried = {r.table: r for r in last["scoped path tried"]}
        per_model = {r.table: (r, tried[r.table], fulls[r.table]) for r in last["incremental run"]}
        noop = gold("rerun, nothing new", lakehouse["incremental"])
        for model in domain.gold_models:
            a, b = (
                spark.read.format("delta").load(lakehouse[h].table_path(Layer.GOLD, model.name))
                for h in ("incremental", "full")
            )
            c = spark.read.format("delta").load(
                lakehouse["scoped"].table_path(Layer.GOLD, model.name)
            )
            for other, what in ((a, "incremental"), (c, "scoped")):
                if other.exceptAll(b).count() or b.exceptAll(other).count():
                    raise SystemExit(f"{model.name}: {what} and full recompute differ")
        summary.append((kind, incremental, scoped, full, noop, per_model))

    print(f"\nsummary at scale {args.scale}, {args.fraction:.0%} batch (first run {first:.1f}s):")
    for kind, incremental, scoped, full, noop, _ in summary:
        print(
            f"  {kind:<34} incremental {incremental:6.1f}s  full recompute {full:6.1f}s  "
            f"ratio {incremental / full:4.0%}  scoped path tried {scoped:6.1f}s "
            f"({scoped / full:4.0%})  no-op rerun {noop:.1f}s"
        )
    print("\nper model (seconds overlap unless --parallelism 1):")
    print(
        f"  {'batch':<34}{'model':<22}{'incr s':>8}{'rows':>8}{'scoped s':>9}{'rows':>8}"
        f"{'full s':>8}{'rows':>8}  path (incremental; scoped path tried)"
    )
    for kind, *_, per_model in summary:
        for name, (inc, sco, ful) in sorted(per_model.items()):
            path, forced = (" ".join(r.messages).split(":")[0] for r in (inc, sco))
            print(
                f"  {kind:<34}{name:<22}{inc.seconds:8.1f}{inc.rows_out:8d}"
                f"{sco.seconds:9.1f}{sco.rows_out:8d}{ful.seconds:8.1f}{ful.rows_out:8d}"
                f"  {path}; {forced}"
            )
    print("  incremental, scoped and full recompute gave the same gold tables")
    spark.stop()
    if not args.lakehouse:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
