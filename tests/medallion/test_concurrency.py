"""Tables of a layer processed side by side: the knob, the order of results, real overlap."""

from __future__ import annotations

import threading

import pytest

from medallion.concurrency import PARALLELISM_ENV, map_tables, parallelism


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
