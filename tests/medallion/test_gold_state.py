"""The record of the silver versions a gold mart consumed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from medallion.gold import state as gold_state
from medallion.gold.state import GoldState, TableVersion, load_state, save_state, state_path

STATE = GoldState(
    model="sales_daily",
    gold=TableVersion("gold-id", 7),
    sources={"sales": TableVersion("sales-id", 12), "products": TableVersion("p-id", 3)},
)


def test_state_round_trips_through_json() -> None:
    assert GoldState.from_json(STATE.to_json()) == STATE


@pytest.mark.parametrize(
    "text",
    ['{"format": 1, "mod', '{"format": 2, "model": "x", "gold": {}, "sources": {}}', "[]", ""],
)
def test_unreadable_or_foreign_state_is_none(text: str) -> None:
    assert GoldState.from_json(text) is None


@pytest.mark.spark
@pytest.mark.parametrize("through_hadoop", [False, True])
def test_save_then_load(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, through_hadoop: bool
) -> None:
    """Locally with an atomic rename; through Hadoop's FileSystem as on S3."""
    if through_hadoop:
        monkeypatch.setattr(gold_state, "is_remote", lambda _: True)
    path = state_path(str(tmp_path / "gold"), "sales_daily")
    assert load_state(spark, path, "sales_daily") is None
    save_state(spark, path, STATE)
    save_state(spark, path, STATE)  # replaced, not appended
    assert load_state(spark, path, "sales_daily") == STATE
    assert load_state(spark, path, "customer_value") is None  # another model's record
    assert sorted(p.name for p in Path(path).parent.iterdir() if not p.name.endswith(".crc")) == [
        "sales_daily.json"
    ]
