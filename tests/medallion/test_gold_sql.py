"""SQL gold models on Spark (the demo's marts in domain/models): equal to the independent reference,
refreshed incrementally with a scope derived from the query, and recomputed in full (with the
reason) when needed."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from medallion.gold import run_gold, run_model, sql_scope
from medallion.gold import runner as gold_runner
from medallion.gold.sql_transform import run_sql
from medallion.gold.state import load_state, save_state, state_path
from medallion.layout import Lakehouse, Layer
from medallion.spec import Domain, GoldModel
from medallion.spec.sql_model import parse_sql_model
from tests.demo import load_demo
from tests.medallion.gold_support import (
    Silver,
    assert_ok,
    completed_sales_with_items,
    frame,
    frames,
    random_silver,
    read_rows,
    rows_of,
)
from tests.medallion.sql_model_cases import TYPED_COLUMNS, TYPED_QUERY
from tests.pipeline import PipelineRun, expected_silver
from tests.reference import gold_reference as reference

#: The demo domain: its tables and its marts, SQL models read from domain/models.
DOMAIN = load_demo()
SQL_MODELS = DOMAIN.gold_models
SQL_DOMAIN = DOMAIN

pytestmark = pytest.mark.spark


def test_the_demo_marts_are_sql_models() -> None:
    assert [m.name for m in SQL_MODELS if not m.sql or m.transform] == []
    assert len(SQL_MODELS) == 4


def sql_model(name: str, sql: str, metadata: str) -> GoldModel:
    return parse_sql_model(name, f"/*\n{metadata}\n*/\n{sql}", DOMAIN.tables)


def test_inferred_types_are_the_types_spark_gives(spark: SparkSession) -> None:
    tables = {name: frame(spark, name, []) for name in ("sales", "sales_items")}
    model = sql_model("typed", TYPED_QUERY, "grain: [sale_id]")
    result = run_model(model, domain=DOMAIN, **tables)  # conformed: declared types
    raw = run_sql(model, tables)  # not conformed: Spark's own types
    assert {f.name: f.dataType.simpleString() for f in raw.schema} == TYPED_COLUMNS
    assert [f.name for f in result.schema] == list(TYPED_COLUMNS)


@pytest.mark.parametrize("seed", [11, 12])
def test_sql_models_equal_the_plain_python_reference(spark: SparkSession, seed: int) -> None:
    silver = random_silver(seed)
    inputs = frames(spark, silver)
    for model in SQL_MODELS:
        result = run_model(model, **{s: inputs[s] for s in model.sources})
        declared = [(c.name, c.type) for c in model.columns]
        assert [(f.name, f.dataType.simpleString()) for f in result.schema] == declared
        expected = reference.mart(model.name, silver)
        assert expected, model.name
        assert rows_of(result) == expected, model.name


def test_models_run_by_name_equal_the_reference_on_pipeline_data(
    spark: SparkSession, pipeline_run: PipelineRun
) -> None:
    """The notebook way (a model's name and the DataFrames it reads) on the pipeline's silver."""
    lakehouse = pipeline_run.lakehouse
    silver = {
        t.name: spark.read.format("delta").load(lakehouse.table_path(Layer.SILVER, t.name))
        for t in DOMAIN.tables
    }
    reference_silver = expected_silver()
    for model in SQL_MODELS:
        inputs = {s: silver[s] for s in model.sources}
        expected = reference.mart(model.name, reference_silver)
        assert expected, model.name
        assert rows_of(run_model(model.name, domain=DOMAIN, **inputs)) == expected, model.name


def test_sql_models_refresh_incrementally(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql_scope, "SCOPE_SHARE_LIMIT", float("inf"))  # tiny data
    monkeypatch.setattr(gold_runner, "SCOPED_COST_LIMIT", float("inf"))
    monkeypatch.setattr(gold_runner, "SCOPED_MIN_FULL_SECONDS", 0.0)
    lakehouse = Lakehouse.at(str(tmp_path))
    silver = Silver(spark, lakehouse, random_silver(5))
    first = assert_ok(run_gold(spark, lakehouse, SQL_DOMAIN))
    assert all(m.startswith("full recompute: no gold table") for m in first.values()), first

    # facts and dimensions move at once: a product's category, a person's region, an address's
    # client and primary flag, an employee's age; a sale cancelled, one moved, an item deleted
    cancelled, moved = completed_sales_with_items(silver)[:2]
    product = silver.rows["products"][0]
    sold = {i["product_id"] for i in silver.rows["sales_items"]}
    assert {2, 6} <= sold and product["product_id"] not in (2, 6)
    silver.commit(
        {
            # product 6 appears (its items leave the NULL category), product 2 goes
            "products": (
                [{**product, "category": "toys"}, {**product, "product_id": 6}],
                [2],
            ),
            "sales_people": ([{**silver.get("sales_people", 1), "region": "east"}], []),
            "client_addresses": (
                [{**silver.get("client_addresses", 1), "client_id": 3, "is_primary": True}],
                [],
            ),
            "employees": ([{**silver.rows["employees"][0], "age": 77}], []),
            "sales": (
                [
                    {**cancelled, "status": "cancelled"},
                    {**moved, "sale_ts": moved["sale_ts"].replace(day=3, month=3)},
                ],
                [],
            ),
            "sales_items": ([], [silver.rows["sales_items"][0]["sale_item_id"]]),
        }
    )
    refreshed = assert_ok(run_gold(spark, lakehouse, SQL_DOMAIN))
    assert all(m.startswith("incremental: ") for m in refreshed.values()), refreshed
    for model in SQL_MODELS:
        gold = read_rows(spark, lakehouse.table_path(Layer.GOLD, model.name))
        assert gold == reference.mart(model.name, silver.rows), model.name

    # a change to a column no model reads: every scope is empty, nothing is written
    silver.update("sales", cancelled["sale_id"], total_amount=cancelled["total_amount"])
    silver.update("clients", 1, email="changed@x.io")
    quiet = assert_ok(run_gold(spark, lakehouse, SQL_DOMAIN))
    touched = {"sales_daily", "sales_person_monthly", "customer_value"}
    assert all("touch no gold row" in quiet[m] for m in touched), quiet


def test_full_recompute_when_the_scope_is_not_worth_it_or_not_provable(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gold_runner, "SCOPED_COST_LIMIT", float("inf"))  # the share decides
    monkeypatch.setattr(gold_runner, "SCOPED_MIN_FULL_SECONDS", 0.0)
    unprovable = sql_model(
        "top_sales",
        "SELECT s.sale_id, RANK() OVER (ORDER BY s.total_amount DESC) AS place FROM sales s",
        "grain: [sale_id]\ncolumns:\n  place: {type: int}",
    )
    daily = next(m for m in SQL_MODELS if m.name == "sales_daily")
    domain = Domain(tables=DOMAIN.tables, gold_models=(daily, unprovable))
    lakehouse = Lakehouse.at(str(tmp_path))
    silver = Silver(spark, lakehouse, random_silver(6))
    assert_ok(run_gold(spark, lakehouse, domain))

    # one sale changes: a few dates of many; the window over all sales cannot be scoped
    sale = completed_sales_with_items(silver)[0]
    silver.update("sales", sale["sale_id"], status="pending", total_amount=sale["total_amount"])
    messages = assert_ok(run_gold(spark, lakehouse, domain))
    assert messages["sales_daily"].startswith("incremental: "), messages
    assert "of the mart's" in messages["sales_daily"]
    assert messages["top_sales"].startswith(
        "full recompute: the scope of this query cannot be derived: a window without PARTITION BY"
    ), messages

    # every sale cancelled: the scope is the whole mart, recomputing everything is cheaper
    silver.change("sales", [{**s, "status": "cancelled"} for s in silver.rows["sales"]])
    messages = assert_ok(run_gold(spark, lakehouse, domain))
    assert "full recompute: the changes touch" in messages["sales_daily"], messages
    assert "beyond which recomputing everything is cheaper" in messages["sales_daily"]
    for model in (daily,):
        gold = read_rows(spark, lakehouse.table_path(Layer.GOLD, model.name))
        assert gold == reference.mart(model.name, silver.rows)


def test_the_path_that_cost_less_last_time_is_taken(spark: SparkSession, tmp_path: Path) -> None:
    """The state keeps how long each path last took; a scoped refresh dearer than a full
    recompute is not tried again (until full recomputes grow dearer than it), and none is
    tried while full recomputes are quicker than the floor."""
    daily = next(m for m in SQL_MODELS if m.name == "sales_daily")
    domain = Domain(tables=DOMAIN.tables, gold_models=(daily,))
    lakehouse = Lakehouse.at(str(tmp_path))
    silver = Silver(spark, lakehouse, random_silver(6))
    assert_ok(run_gold(spark, lakehouse, domain))
    stored = state_path(lakehouse.gold, daily.name)
    assert set(load_state(spark, stored, daily.name).seconds) == {"full"}

    def refresh_after(seconds: dict[str, float]) -> str:
        state = load_state(spark, stored, daily.name)
        save_state(spark, stored, replace(state, seconds=seconds))
        sale = completed_sales_with_items(silver)[0]
        silver.update("sales", sale["sale_id"], total_amount=sale["total_amount"] + 1)
        return assert_ok(run_gold(spark, lakehouse, domain))["sales_daily"]

    never_scoped = refresh_after({"full": 1.0})
    assert never_scoped.startswith(
        "full recompute: the last full recompute took 1.0s, under the 30s below which deriving "
        "a scope costs more than it saves"
    ), never_scoped
    slow_full = refresh_after({"full": 35.0})
    assert slow_full.startswith("incremental: "), slow_full
    cheap_scope = refresh_after({"full": 100.0, "scoped": 1.0})
    assert cheap_scope.startswith("incremental: "), cheap_scope
    dear_scope = refresh_after({"full": 1.0, "scoped": 100.0})
    assert dear_scope.startswith(
        "full recompute: the last scoped refresh took 100.0s, more than the last full recompute "
        "(1.0s)"
    ), dear_scope
    timed = load_state(spark, stored, daily.name).seconds
    assert timed["scoped"] == 100.0 and timed["full"] < 100.0  # the full recompute's own time
    assert read_rows(spark, lakehouse.table_path(Layer.GOLD, daily.name)) == reference.mart(
        daily.name, silver.rows
    )
