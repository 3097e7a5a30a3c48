"""Property: however a change stream is split into batches, replayed, or its files delivered,
silver ends the same: equal to the plain-Python reference of the stream.

Each example holds many independent streams (keys 1..5 each, in their own key range and
their own landing folder), run together so that one silver run serves them all; keys never
meet across streams, so each stream behaves as if it ran alone. A silver run costs about the
same for one stream or thirty, so the streams are drawn into few examples: three examples of
12 to 32 streams each cover as many streams as six of 6 to 16, with half the silver runs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession

from medallion.layout import Lakehouse
from medallion.silver import run_silver
from medallion.spec import Column, Domain, Rule, Table
from tests.medallion.silver_support import (
    append_bronze,
    cdc,
    quarantined,
    silver_rows,
    silver_sources,
)
from tests.reference.silver import Change, expected_silver

PROP = Table(
    name="prop",
    source="t",
    primary_key=("item_id",),
    columns=(Column("item_id", "bigint"), Column("name"), Column("qty", "int")),
    rules=(Rule("qty_positive", "qty > 0"),),
)
KEYS = 5
SPAN = 100  # stream n uses keys n*SPAN+1 .. n*SPAN+KEYS


@dataclass(frozen=True)
class Stream:
    """One stream's files, delivered in ``deliveries`` (lists of file indexes, in order)."""

    files: list[list[Change]]
    deliveries: list[list[int]]

    @property
    def changes(self) -> list[Change]:
        return [c for f in self.files for c in f]


@st.composite
def streams(draw: st.DrawFn, number: int) -> Stream:
    base = number * SPAN
    count = draw(st.integers(4, 16))
    seqs = draw(st.lists(st.integers(1, 500), min_size=count, max_size=count, unique=True))
    n_files = draw(st.integers(1, 3))
    files: list[list[Change]] = [[] for _ in range(n_files)]
    if draw(st.booleans()):  # a full load first (no sequence: before every CDC change)
        loaded = draw(st.sets(st.integers(1, KEYS), min_size=1))
        files.append(
            [
                cdc(None, None, f"s{number}/LOAD00000001.csv", row, item_id=base + k, name="load")
                for row, k in enumerate(sorted(loaded))
            ]
        )
    # As DMS does, each file covers a window of time: files hold consecutive changes, so a
    # file delivered late brings old changes.
    windows = min(n_files, count) - 1
    cuts = sorted(
        draw(st.sets(st.integers(1, max(1, count - 1)), min_size=windows, max_size=windows))
    )
    for seq in sorted(seqs):
        index = sum(1 for cut in cuts if sorted(seqs).index(seq) >= cut)
        op = draw(st.sampled_from("IUDD"))
        key = base + draw(st.integers(1, KEYS))
        qty = draw(st.sampled_from([1, 2, 3, 4, 0, "x"]))  # 0 and 'x' are quarantined
        values = {"item_id": key} if op == "D" else {"item_id": key, "name": f"v{seq}", "qty": qty}
        key_name = f"s{number}/2024/01/{index + 1:02d}/changes.csv"
        files[index].append(cdc(op, seq, key_name, len(files[index]), **values))
    files = [f for f in files if f]
    order = draw(st.permutations(range(len(files))))
    apart = draw(st.lists(st.booleans(), min_size=len(order) - 1, max_size=len(order) - 1))
    batches = [[order[0]]]
    for index, new_batch in zip(order[1:], apart, strict=True):
        if new_batch and len(batches) < 2:
            batches.append([index])
        else:
            batches[-1].append(index)
    if draw(st.booleans()):  # deliver one batch again, at some later point
        replayed = draw(st.integers(0, len(batches) - 1))
        at = draw(st.integers(replayed + 1, len(batches)))
        batches.insert(at, batches[replayed])
    return Stream(files, batches)


@settings(
    max_examples=3,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_split_replay_or_delivery_order_gives_the_reference_silver(
    spark: SparkSession, tmp_path: Path, data: st.DataObject
) -> None:
    count = data.draw(st.integers(12, 32), label="streams")
    drawn = [data.draw(streams(n), label=f"stream {n}") for n in range(count)]
    lakehouse = Lakehouse.at(str(tmp_path / uuid.uuid4().hex))
    domain = Domain(tables=(PROP,))
    steps = max(len(s.deliveries) for s in drawn)
    for step in range(steps):
        delivered = [
            change
            for stream in drawn
            if step < len(stream.deliveries)
            for index in stream.deliveries[step]
            for change in stream.files[index]
        ]
        if delivered:
            append_bronze(spark, lakehouse, PROP, delivered)
            [result] = run_silver(spark, lakehouse, domain, max_bad_ratio=1.0)
            assert not result.failed, result.messages

    expected = expected_silver(PROP, [c for s in drawn for c in s.changes])
    assert silver_rows(spark, lakehouse, PROP) == expected.rows(PROP.column_names)
    assert silver_sources(spark, lakehouse, PROP) == expected.source
    assert quarantined(spark, lakehouse, PROP) == expected.quarantine
