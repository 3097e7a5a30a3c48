"""Incremental gold refresh of the demo's SQL marts and of a Python model with its scope function:
equal to a full recompute, scoped writes, no-op reruns, recovery."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from medallion import delta_io
from medallion.gold import run_gold, run_model, sql_scope
from medallion.gold import runner as gold_runner
from medallion.gold.state import state_path
from medallion.layout import Lakehouse, Layer
from medallion.results import Status
from medallion.spec import load_domain
from tests.demo import load_demo
from tests.medallion.gold_support import (
    Silver,
    assert_ok,
    completed_sales_with_items,
    random_silver,
    read_rows,
    rows_of,
    write_silver,
)
from tests.medallion.python_model_declarations import python_domain
from tests.reference import gold_reference as reference

pytestmark = pytest.mark.spark

#: The demo's marts: SQL models whose scopes are derived from the query.
MODELS = [m.name for m in load_demo().gold_models]


@pytest.fixture
def scope_always(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refresh within the scope whatever its share of the mart (the data here is tiny)."""
    monkeypatch.setattr(sql_scope, "SCOPE_SHARE_LIMIT", float("inf"))
    monkeypatch.setattr(gold_runner, "SCOPED_COST_LIMIT", float("inf"))
    monkeypatch.setattr(gold_runner, "SCOPED_MIN_FULL_SECONDS", 0.0)


def gold_version(spark: SparkSession, lakehouse: Lakehouse, model: str) -> int:
    return delta_io.table_state(spark, lakehouse.table_path(Layer.GOLD, model)).version


def assert_gold_equals_reference(silver: Silver, models: Sequence[str] = MODELS) -> None:
    for name in models:
        gold = read_rows(silver.spark, silver.lakehouse.table_path(Layer.GOLD, name))
        assert gold == reference.mart(name, silver.rows), name


def assert_gold_equals_full_recompute(silver: Silver) -> None:
    """Gold equals the models run on the whole of silver (as Delta holds it)."""
    spark, lakehouse = silver.spark, silver.lakehouse
    tables = {
        t.name: spark.read.format("delta").load(lakehouse.table_path(Layer.SILVER, t.name))
        for t in load_demo().tables
    }
    for model in load_demo().gold_models:
        full = run_model(model, domain=load_demo(), **{s: tables[s] for s in model.sources})
        assert read_rows(spark, lakehouse.table_path(Layer.GOLD, model.name)) == rows_of(full)


@pytest.mark.usefixtures("scope_always")
def test_incremental_runs_equal_a_full_recompute(spark: SparkSession, tmp_path: Path) -> None:
    lakehouse = Lakehouse.at(str(tmp_path))
    silver = Silver(spark, lakehouse, random_silver(5))
    first = assert_ok(run_gold(spark, lakehouse, load_demo()))
    assert all("full recompute" in m for m in first.values()), first
    assert_gold_equals_reference(silver)

    # 1. a new sale with items, a sale moved to another date and client, a sale deleted, an
    #    item changed, an item deleted, a client added and one deleted
    moved, deleted = completed_sales_with_items(silver)[:2]
    item, dropped = silver.rows["sales_items"][:2]
    silver.commit(
        {
            "sales": (
                [
                    {"sale_id": 1001, "client_id": 1, "sales_person_id": 1, "status": "completed",
                     "sale_ts": datetime(2024, 2, 10, 12, 0), "total_amount": D("1.00")},
                    {**moved, "sale_ts": moved["sale_ts"] + timedelta(days=3),
                     "client_id": (moved["client_id"] or 0) % 8 + 1},
                ],
                [deleted["sale_id"]],
            ),
            "sales_items": (
                [
                    {"sale_item_id": 5001, "sale_id": 1001, "product_id": 2, "quantity": 3,
                     "unit_price": D("0.35"), "discount": D("0.050")},
                    {**item, "quantity": item["quantity"] + 1},
                ],
                [dropped["sale_item_id"]],
            ),
            "clients": ([{"client_id": 50, "name": "new", "email": "n@x.io"}], [2]),
        }
    )  # fmt: skip

    # 2. then dimensions move: a product's category, a person's region, an employee's month
    #    (and one employee leaves), an address's client and primary flag; a sale is cancelled
    product = silver.rows["products"][0]
    employee = next(e for e in silver.rows["employees"] if e["reference_date"] is not None)
    gone = silver.rows["employees"][-1]
    assert gone is not employee
    cancelled = completed_sales_with_items(silver)[0]
    silver.commit(
        {
            "products": ([{**product, "category": "toys"}], []),
            "sales_people": ([{**silver.get("sales_people", 1), "region": "east"}], []),
            "employees": (
                [{**employee, "reference_date": date(2024, 5, 31)}],
                [gone["employee_id"]],
            ),
            "client_addresses": (
                [{**silver.get("client_addresses", 1), "client_id": 3, "is_primary": True}],
                [],
            ),
            "sales": ([{**cancelled, "status": "cancelled"}], []),
        }
    )
    # one incremental run reads both commits of sales (and the single ones of the others)
    refreshed = assert_ok(run_gold(spark, lakehouse, load_demo()))
    assert all(m.startswith("incremental") for m in refreshed.values()), refreshed
    assert_gold_equals_reference(silver)
    assert_gold_equals_full_recompute(silver)

    # 3. nothing new: nothing is read, no gold version, no state written
    versions = {m: gold_version(spark, lakehouse, m) for m in MODELS}
    states = {m: os.stat(state_path(lakehouse.gold, m)).st_mtime_ns for m in MODELS}
    rerun = assert_ok(run_gold(spark, lakehouse, load_demo()))
    assert all("up to date" in m for m in rerun.values()), rerun
    assert {m: gold_version(spark, lakehouse, m) for m in MODELS} == versions
    assert {m: os.stat(state_path(lakehouse.gold, m)).st_mtime_ns for m in MODELS} == states


def day_sales() -> dict[str, list[dict]]:
    """Sales 1, 2 on 2024-01-30, 11, 12 on 01-31, 21, 22 on 02-01; one item each (same id),
    of product 1 (books) for odd ids and 2 (games) for even ones."""
    days = [datetime(2024, 1, 30, 9), datetime(2024, 1, 31, 9), datetime(2024, 2, 1, 9)]
    sales = [
        {"sale_id": 10 * d + n, "client_id": n, "sales_person_id": n, "sale_ts": ts,
         "status": "completed", "total_amount": D("0.00")}
        for d, ts in enumerate(days) for n in (1, 2)
    ]  # fmt: skip
    items = [
        {"sale_item_id": s["sale_id"], "sale_id": s["sale_id"], "product_id": s["client_id"],
         "quantity": 1, "unit_price": D("2.50"), "discount": D("0")}
        for s in sales
    ]  # fmt: skip
    return {
        "sales": sales,
        "sales_items": items,
        "products": [
            {"product_id": 1, "name": "a", "category": "books", "unit_price": D("2.50")},
            {"product_id": 2, "name": "b", "category": "games", "unit_price": D("2.50")},
        ],
    }


@pytest.mark.usefixtures("scope_always")
def test_sales_daily_scoped_writes_and_recovery(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One mart through its life: scoped writes, changes it does not read, a crash between
    the gold commit and the state, a lost state, a lost change feed, a corrupt state."""
    lakehouse = Lakehouse.at(str(tmp_path))
    silver = Silver(spark, lakehouse, day_sales())
    path = lakehouse.table_path(Layer.GOLD, "sales_daily")

    def refresh() -> str:
        return assert_ok(run_gold(spark, lakehouse, load_demo(), ["sales_daily"]))["sales_daily"]

    def version() -> int:
        return gold_version(spark, lakehouse, "sales_daily")

    refresh()

    # a change on one date rewrites that date's row only
    before = version()
    silver.update("sales_items", 11, quantity=3)  # sale 11: 2024-01-31, books
    message = refresh()
    assert "1 sale_date, category values ((2024-01-31, books))" in message
    assert "0 rows inserted, 1 updated, 0 deleted" in message
    assert version() == before + 1
    feed = (
        spark.read.format("delta")
        .option("readChangeFeed", "true")
        .option("startingVersion", version())
        .load(path)
    )
    changed = sorted((r.sale_date, r.category, r._change_type, r.units) for r in feed.collect())
    jan31 = date(2024, 1, 31)
    assert changed == [
        (jan31, "books", "update_postimage", 3),
        (jan31, "books", "update_preimage", 1),
    ]
    log = Path(path) / "_delta_log" / f"{version():020d}.json"
    actions = [json.loads(line) for line in log.read_text().splitlines()]
    removed = [a["remove"]["path"] for a in actions if "remove" in a]
    assert removed and all(p.startswith("sale_month=2024-01-01/") for p in removed)
    assert_gold_equals_reference(silver, ["sales_daily"])

    # changes to columns the mart does not read: no gold commit, the state moves on
    before = version()
    silver.update("sales", 1, total_amount=D("99.00"))
    silver.update("products", 1, unit_price=D("3.00"), name="renamed")
    assert "touch no gold row" in refresh()
    assert version() == before
    stored = json.loads(Path(state_path(lakehouse.gold, "sales_daily")).read_text())
    sales = delta_io.table_state(spark, lakehouse.table_path(Layer.SILVER, "sales"))
    assert stored["sources"]["sales"]["version"] == sales.version

    # a crash after the gold commit, before the state is saved
    def crash(*_: object) -> None:
        raise OSError("killed")

    silver.update("sales", 1, sale_ts=datetime(2024, 2, 1, 18))  # 01-30 -> 02-01
    with monkeypatch.context() as patch:
        patch.setattr(gold_runner, "save_state", crash)
        (result,) = run_gold(spark, lakehouse, load_demo(), ["sales_daily"])
    assert result.status is Status.FAILED and "killed" in result.messages[-1]
    assert version() == before + 1  # gold was written
    silver.update("sales_items", 21, quantity=2)
    # the crashed run's changes are read again: 2024-01-30 is where sale 1 was
    message = refresh()
    assert "2 sale_date, category values ((2024-01-30, books), (2024-02-01, books))" in message
    assert_gold_equals_reference(silver, ["sales_daily"])

    # state gone, silver unchanged: recomputed in full; nothing differs, so nothing written
    before = version()
    os.remove(state_path(lakehouse.gold, "sales_daily"))
    message = refresh()
    assert "full recompute: no readable record" in message and "no gold row changed" in message
    assert version() == before

    # the change feed of the range removed (as VACUUM does after the retention)
    silver.update("sales", 12, status="cancelled")
    silver.update("products", 2, category="toys")
    shutil.rmtree(Path(lakehouse.table_path(Layer.SILVER, "sales")) / "_change_data")
    message = refresh()
    assert "full recompute: silver 'sales' at version" in message, message
    assert "or its changes since are no longer readable" in message, message
    assert_gold_equals_reference(silver, ["sales_daily"])

    # a corrupt state is a lost one
    Path(state_path(lakehouse.gold, "sales_daily")).write_text('{"format": 1, "mod')
    assert "full recompute: no readable record" in refresh()


def test_missing_silver_fails_that_mart_only(spark: SparkSession, tmp_path: Path) -> None:
    lakehouse = Lakehouse.at(str(tmp_path))
    write_silver(spark, lakehouse, {"employees": random_silver(1)["employees"]})
    results = {
        r.table: r
        for r in run_gold(spark, lakehouse, load_demo(), ["sales_daily", "avg_salary_by_age"])
    }
    failed = results["sales_daily"]
    assert failed.status is Status.FAILED
    assert (
        "'sales_daily'" in failed.messages[0]
        and "silver table 'sales_items' not found" in failed.messages[0]
    )
    assert results["avg_salary_by_age"].status is Status.OK


# --- a Python model declared by a user: the runner needs nothing else --------------------------


def test_a_python_model_with_its_scope_function_is_incremental(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gold_runner, "SCOPED_MIN_FULL_SECONDS", 0.0)  # tiny data
    domain = load_domain(python_domain(tmp_path / "domain"))
    units = domain.gold_model("units_by_product")
    assert units.scope == "tests.medallion.python_model:units_by_product_scope"
    lakehouse = Lakehouse.at(str(tmp_path / "lake"))
    silver = Silver(spark, lakehouse, {"sales_items": day_sales()["sales_items"]})
    assert_ok(run_gold(spark, lakehouse, domain))
    silver.update("sales_items", 11, quantity=5)
    silver.change("sales_items", deletes=[22])
    messages = assert_ok(run_gold(spark, lakehouse, domain))
    assert messages["units_by_product"].startswith("incremental: 2 product_id values (1, 2)")
    assert messages["items_by_product"].startswith("full recompute: no scope function")
    units_rows = read_rows(spark, lakehouse.table_path(Layer.GOLD, "units_by_product"))
    assert units_rows == [(1, 7), (2, 2)]
    items = read_rows(spark, lakehouse.table_path(Layer.GOLD, "items_by_product"))
    assert items == [(1, 3), (2, 2)]
    # the notebook way runs a Python model too
    silver_items = spark.read.format("delta").load(
        lakehouse.table_path(Layer.SILVER, "sales_items")
    )
    assert rows_of(run_model("units_by_product", domain=domain, sales_items=silver_items)) == (
        units_rows
    )


@pytest.mark.usefixtures("scope_always")
def test_a_product_moving_category_rescopes_every_date_it_sold(
    spark: SparkSession, tmp_path: Path
) -> None:
    """sales_daily's derived scope holds the product's old and new category on each of its dates."""
    lakehouse = Lakehouse.at(str(tmp_path))
    silver = Silver(spark, lakehouse, day_sales())
    assert_ok(run_gold(spark, lakehouse, load_demo(), ["sales_daily"]))
    silver.update("products", 2, category="toys")  # sold on 01-30, 01-31 and 02-01
    message = assert_ok(run_gold(spark, lakehouse, load_demo(), ["sales_daily"]))["sales_daily"]
    assert message.startswith("incremental: "), message
    assert "(2024-01-30, games), (2024-01-30, toys)" in message, message
    # category is in the grain: the games rows of the three dates go, the toys rows come (the
    # scope may hold more, e.g. the NULL category of a left join, but rewrites only these)
    assert "3 rows inserted, 0 updated, 3 deleted" in message, message
    assert_gold_equals_reference(silver, ["sales_daily"])
