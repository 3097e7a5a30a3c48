"""How a layer runs its tables: the knob, the order of results, real overlap, timing, progress,
failures reported and sessions per table (no Spark: the session is a stand-in)."""

from __future__ import annotations

import threading

import pytest

from medallion.layout import Layer
from medallion.results import Status, TableResult
from medallion.runner import PARALLELISM_ENV, map_tables, parallelism, run_tables


def test_parallelism_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARALLELISM_ENV, "2")
    assert parallelism() == 2
    for bad in ("0", "-1", "four"):
        monkeypatch.setenv(PARALLELISM_ENV, bad)
        with pytest.raises(ValueError, match=PARALLELISM_ENV):
            parallelism()


def test_items_overlap_and_results_keep_their_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARALLELISM_ENV, "3")
    # Every call waits for two others: this only finishes when three run at the same time.
    barrier = threading.Barrier(3, timeout=10)

    def work(item: int) -> int:
        barrier.wait()
        return item * 10

    assert map_tables(work, [3, 1, 2]) == [30, 10, 20]


def test_one_worker_runs_in_order_on_the_calling_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARALLELISM_ENV, "1")
    seen: list[tuple[int, str]] = []

    def work(item: int) -> int:
        seen.append((item, threading.current_thread().name))
        return item

    assert map_tables(work, [2, 1]) == [2, 1]
    assert seen == [(2, threading.current_thread().name), (1, threading.current_thread().name)]


class FakeSession:
    """Stands in for a SparkSession: counts the sessions made from it."""

    def __init__(self) -> None:
        self.children: list[FakeSession] = []

    def newSession(self) -> FakeSession:
        child = FakeSession()
        self.children.append(child)
        return child


def test_run_tables_reports_progress_time_and_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PARALLELISM_ENV, "1")
    spark = FakeSession()
    seen: list[str] = []

    def work(session: object, table: str) -> TableResult:
        assert session is spark
        if table == "broken":
            raise RuntimeError("disk full\n  at the JVM")
        return TableResult(layer="silver", table=table, rows_out=len(table))

    results = run_tables(
        spark,  # type: ignore[arg-type]
        Layer.SILVER,
        ["clients", "broken", "sales"],
        work,
        name=str,
        progress=seen.append,
    )
    assert seen == ["silver.clients", "silver.broken", "silver.sales"]
    assert [(r.table, r.status, r.rows_out) for r in results] == [
        ("clients", Status.OK, 7),
        ("broken", Status.FAILED, 0),
        ("sales", Status.OK, 5),
    ]
    assert results[1].messages == ["silver table 'broken' failed: RuntimeError: disk full"]
    assert all(r.seconds > 0 for r in results)
    assert not spark.children


def test_run_tables_gives_each_table_its_own_session_when_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PARALLELISM_ENV, "2")
    spark = FakeSession()
    used: list[object] = []

    def work(session: object, table: str) -> TableResult:
        used.append(session)
        return TableResult(layer="silver", table=table)

    run_tables(spark, Layer.SILVER, ["a", "b"], work, name=str, session_per_table=True)  # type: ignore[arg-type]
    assert len(spark.children) == 2 and sorted(map(id, used)) == sorted(map(id, spark.children))
    used.clear()
    run_tables(spark, Layer.GOLD, ["a", "b"], work, name=str)  # type: ignore[arg-type]
    assert used == [spark, spark]


@pytest.mark.parametrize("layer", [Layer.BRONZE, Layer.SILVER, Layer.GOLD])
def test_run_tables_reports_a_lost_commit_race_as_a_warning(
    monkeypatch: pytest.MonkeyPatch, layer: Layer
) -> None:
    """Any layer: a Delta commit lost to a concurrent run added nothing; it is no failure."""
    monkeypatch.setenv(PARALLELISM_ENV, "1")

    def work(session: object, table: str) -> TableResult:
        if table == "raced":
            raise RuntimeError(
                "[DELTA_CONCURRENT_TRANSACTION] ConcurrentTransactionException: This error "
                "occurs when multiple streaming queries are using the same checkpoint"
            )
        if table == "broken":
            raise RuntimeError("ConcurrentModificationError of a Python list")
        return TableResult(layer=layer.value, table=table)

    results = run_tables(FakeSession(), layer, ["raced", "broken", "fine"], work, name=str)  # type: ignore[arg-type]
    assert [(r.table, r.status) for r in results] == [
        ("raced", Status.WARNED),
        ("broken", Status.FAILED),
        ("fine", Status.OK),
    ]
    [message] = results[0].messages
    assert f"a concurrent {layer.value} run committed to raced first" in message
    assert "added nothing" in message
    assert results[0].seconds > 0
