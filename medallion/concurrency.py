"""Tables of one layer processed side by side.

A layer's tables are independent (each writes its own Delta tables), and most of their work is
small Spark jobs and Delta commits whose latency, not CPU, dominates. Running a few at a time
overlaps those waits. ``$MEDALLION_PARALLELISM`` (default 4) sets how many; 1 runs them in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

PARALLELISM = 4
PARALLELISM_ENV = "MEDALLION_PARALLELISM"

Item = TypeVar("Item")
Result = TypeVar("Result")


def parallelism() -> int:
    """How many tables a layer processes at a time (``$MEDALLION_PARALLELISM``)."""
    value = os.environ.get(PARALLELISM_ENV, str(PARALLELISM))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PARALLELISM_ENV} must be a positive integer, got {value!r}")
    return int(value)


def map_tables(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    workers: int | None = None,
    name: str = "table",
) -> list[Result]:
    """``work`` applied to every item, up to ``workers`` (default :func:`parallelism`) at a
    time; results in the order of ``items``. ``work`` should report failures, not raise."""
    count = min(parallelism() if workers is None else workers, len(items))
    if count <= 1:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix=name) as pool:
        return list(pool.map(work, items))
