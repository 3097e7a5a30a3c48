"""The source database simulation: a full load, then CDC batches of changes with anomalies.

The simulation keeps the state of every table (row ``i`` holds key ``i + 1``) and records each
change it makes as a row image with DMS metadata. Batch ``k`` depends only on the seed, the
scale and batches ``0..k-1``, so any batch can be written alone and equals the same batch of a
full run. The state is what silver must hold after applying the batches: rows the pipeline
must quarantine or ignore are emitted without changing it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from medallion.generate import anomalies as A
from medallion.generate import clock
from medallion.generate.values import Arr

Cols = dict[str, Arr]

#: Rows to quarantine per table and batch, as a share of the batch's rows (silver fails a
#: table above 5% by default), and the batches within which each required kind appears.
QUARANTINE_SHARE = 0.03
COVERAGE_BATCHES = 3
#: Rows the other anomalies add to a table's batch (two double updates, a late and a stale
#: change, two deletes with re-inserts, a key-only delete).
ANOMALY_ROWS = 14

#: Meta fields of an emitted change, besides the row image.
META = ("op", "key", "time", "deliver", "key_only", "kind", "rule", "bad_text")


@dataclass
class SourceRows:
    """Current rows of one source table; row ``i`` holds primary key ``i + 1``."""

    cols: Cols
    live: Arr
    refs: Arr  # live child rows that reference the row (restricting foreign keys)

    @classmethod
    def of(cls, cols: Cols) -> SourceRows:
        size = len(next(iter(cols.values())))
        return cls(cols, np.ones(size, dtype=bool), np.zeros(size, dtype=np.int64))

    @property
    def size(self) -> int:
        return len(self.live)

    def rows(self, keys: Arr) -> Cols:
        return {name: values[keys - 1] for name, values in self.cols.items()}

    def put(self, keys: Arr, cols: Cols) -> None:
        for name, values in cols.items():
            self.cols[name][keys - 1] = values

    def append(self, cols: Cols) -> Arr:
        start = self.size
        for name in self.cols:
            self.cols[name] = np.concatenate([self.cols[name], cols[name]])
        count = len(self.cols[next(iter(self.cols))]) - start
        self.live = np.concatenate([self.live, np.ones(count, dtype=bool)])
        self.refs = np.concatenate([self.refs, np.zeros(count, dtype=np.int64)])
        return np.arange(start + 1, start + count + 1, dtype=np.int64)


@dataclass
class ChangeBatch:
    """Changes of one table: DMS metadata and anomaly tags (``meta``) plus row images."""

    meta: Cols
    cols: Cols

    def __len__(self) -> int:
        return len(self.meta["op"])

    def take(self, index: Arr) -> ChangeBatch:
        return ChangeBatch(
            {k: v[index] for k, v in self.meta.items()}, {k: v[index] for k, v in self.cols.items()}
        )

    @staticmethod
    def concat(parts: Sequence[ChangeBatch]) -> ChangeBatch:
        """One ``ChangeBatch`` of non-empty ``parts`` in order (``parts`` must not be empty)."""
        parts = [p for p in parts if len(p)] or list(parts[:1])
        first = parts[0]
        return ChangeBatch(
            {k: np.concatenate([p.meta[k] for p in parts]) for k in first.meta},
            {k: np.concatenate([p.cols[k] for p in parts]) for k in first.cols},
        )


class TableSim:
    """How one source table behaves: its rows, how they change, how to break its rules."""

    name: ClassVar[str]
    source: ClassVar[str]
    key: ClassVar[str]
    file_format: ClassVar[str] = "parquet"
    #: Declared columns (primary key included) and how the state holds them:
    #: ``id``/``int`` integers, ``dec<s>`` integers scaled by 10**s, ``ts`` microseconds,
    #: ``date`` days, ``bool``, ``str`` (objects, ``None`` = NULL).
    columns: ClassVar[dict[str, str]]
    #: Restricting foreign keys: column -> parent table (a referenced parent is never deleted).
    parents: ClassVar[dict[str, str]] = {}
    #: An upstream column the table does not declare, and the first batch that carries it.
    extra: ClassVar[tuple[str, int] | None] = None
    #: Rule name -> (column, a value that breaks it, in the state's representation).
    violations: ClassVar[dict[str, tuple[str, Any]]] = {}
    #: (column, text that does not cast to the column's type).
    uncastable: ClassVar[tuple[str, str]]
    #: Full-load rows at scale 1 and the minimum at any scale (0 = derived from a parent).
    base_rows: ClassVar[int] = 0
    min_rows: ClassVar[int] = 0
    #: Regular changes per CDC batch as fractions of the full load: inserts, updates, deletes,
    #: and the minimum count of each.
    rates: ClassVar[tuple[float, float, float]] = (0.0, 0.0, 0.0)
    floors: ClassVar[tuple[int, int, int]] = (0, 0, 0)
    #: Rows inserted per batch along with new parent rows, as a share of the full load.
    hook_rate: ClassVar[float] = 0.0
    #: Whether the table carries the NULL key, uncastable and unknown Op rows for sure
    #: (other tables get them only when their batches are big enough).
    carries_generic: ClassVar[bool] = False

    def __init__(self) -> None:
        #: Rows the full load leaves unreferenced, so that CDC batches may delete them.
        self.reserved: Arr = np.zeros(0, dtype=bool)

    @property
    def value_columns(self) -> tuple[str, ...]:
        """Columns the state holds: declared ones but the key, then the extra column."""
        names = [c for c in self.columns if c != self.key]
        return (*names, self.extra[0]) if self.extra else tuple(names)

    def size(self, scale: float) -> int:
        return max(self.min_rows, round(self.base_rows * scale))

    def volumes(self, loaded: int) -> tuple[int, int, int]:
        ins, upd, dele = (
            max(floor, round(rate * loaded))
            for rate, floor in zip(self.rates, self.floors, strict=True)
        )
        return ins, upd, dele

    def batch_rows(self, loaded: int) -> int:
        """About how many rows a CDC batch of this table holds."""
        return sum(self.volumes(loaded)) + round(self.hook_rate * loaded) + ANOMALY_ROWS

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        raise NotImplementedError

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        raise NotImplementedError

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        raise NotImplementedError

    def deletable(self, sim: Simulation) -> Arr:
        """Rows a delete may pick (default: not referenced by a live child)."""
        return sim.state[self.name].refs == 0

    def pick_updates(
        self, sim: Simulation, candidates: Arr, count: int, rng: np.random.Generator
    ) -> Arr:
        return rng.choice(candidates, size=min(count, len(candidates)), replace=False)

    def after_insert(
        self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator
    ) -> None:
        """Children created with new rows (a new client's address, a new sale's items)."""

    def before_delete(
        self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator
    ) -> None:
        """Cascading deletes of children."""


def change_seq(times: Arr, batch: int, rank: Arr) -> Arr:
    """DMS-like ``$AR_H_CHANGE_SEQ`` values: commit second, batch and rank, 35 digits."""
    seconds = pa.array(times - times % clock.SECOND, type=pa.timestamp("us")).cast(
        pa.timestamp("s")
    )
    ranks = pc.utf8_lpad(pa.array(rank).cast(pa.string()), 16, "0")
    joined = pc.binary_join_element_wise(
        pc.strftime(seconds, "%Y%m%d%H%M%S"), f"{batch:05d}", ranks, ""
    )
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def owner_times(keys: Arr, times: Arr, owners: Arr) -> Arr:
    """For each of ``owners`` (values among ``keys``), the time of its key."""
    order = np.argsort(keys, kind="stable")
    return times[order[np.searchsorted(keys[order], owners)]]


#: Kinds of CDC batch: updates and deletes (anomalies included) anywhere in the table's
#: history (``spread``, the default and the worst case for a MERGE), or among its newest rows
#: only (``recent``: what OLTP databases mostly produce). Inserts and the parents new rows
#: reference are chosen alike for both.
SPREAD, RECENT = "spread", "recent"
CHANGE_KINDS = (SPREAD, RECENT)
#: The share of a table's newest keys that ``recent`` batches update and delete.
RECENT_SHARE = 0.05


class Simulation:
    """The source databases, replayed batch by batch from one seed."""

    def __init__(
        self,
        tables: Sequence[TableSim],
        *,
        scale: float,
        seed: int,
        changes: str = SPREAD,
        batch_scale: float | None = None,
    ) -> None:
        if changes not in CHANGE_KINDS:
            raise ValueError(f"changes must be one of {', '.join(CHANGE_KINDS)}, got {changes!r}")
        self.tables = {t.name: t for t in tables}
        self.scale = scale
        self.seed = seed
        self.changes = changes
        #: CDC batches are sized as at this scale (``scale`` by default): the same changed rows
        #: for a small and a large database.
        self.batch_scale = scale if batch_scale is None else batch_scale
        self.state: dict[str, SourceRows] = {}
        self.loaded: dict[str, int] = {}
        self.batch = 0
        self.pending: dict[str, ChangeBatch] = {}
        self._reinsert: dict[str, int] = {}
        self._chunks: dict[str, list[ChangeBatch]] = {}
        self._taken: dict[str, Arr] = {}

    def rng(self, *parts: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, *parts])

    # ---------------------------------------------------------------- full load
    def load(self) -> None:
        """Batch 0: the initial content of every table."""
        for index, table in enumerate(self.tables.values()):
            for name, cols in table.full_load(self, self.rng(0, index)).items():
                self.state[name] = SourceRows.of(cols)
        for table in self.tables.values():
            state = self.state[table.name]
            self.loaded[table.name] = state.size
            for column, parent in table.parents.items():
                refs = np.bincount(
                    state.cols[column][state.live] - 1, minlength=self.state[parent].size
                )
                self.state[parent].refs += refs.astype(np.int64)

    # ---------------------------------------------------------------- CDC batches
    def run_batch(self, batch: int) -> dict[str, ChangeBatch]:
        """Simulate CDC batch ``batch`` (after ``batch - 1``); return the changes it delivers.

        Changes held back to arrive late are delivered by the next batch.
        """
        if batch != self.batch + 1:
            raise ValueError(f"batch {batch} must follow batch {self.batch}")
        self.batch = batch
        self._chunks = {name: [] for name in self.tables}
        self._taken = {name: np.zeros(s.size, dtype=bool) for name, s in self.state.items()}
        for name, owed in self.pending.items():
            self._mark(name, owed.meta["key"])
        for index, table in enumerate(self.tables.values()):
            rng = self.rng(batch, index)
            self._anomalies(table, rng)
            self._regular(table, rng)
        changes = {
            name: ChangeBatch.concat(chunks) if chunks else self._nothing(name)
            for name, chunks in self._chunks.items()
        }
        self._sequence(changes)
        delivered: dict[str, ChangeBatch] = {}
        for name, table_changes in changes.items():
            due = table_changes.meta["deliver"]
            now = table_changes.take(np.nonzero(due == batch)[0])
            late = self.pending.get(name)
            delivered[name] = now if late is None else ChangeBatch.concat([late, now])
            self.pending[name] = table_changes.take(np.nonzero(due == batch + 1)[0])
        return delivered

    def _nothing(self, name: str) -> ChangeBatch:
        """No change for table ``name`` (typed like an emitted change)."""
        none = np.zeros(0, dtype=np.int64)
        self._emit(name, "I", none, none, self.state[name].rows(none))
        return self._chunks[name].pop()

    def _anomalies(self, table: TableSim, rng: np.random.Generator) -> None:
        """The anomalies of ``table`` in this batch (one skipped only when no row qualifies)."""
        name, later = table.name, self.batch + 1
        reinsert = self._reinsert.pop(name, None)
        if reinsert is not None and not self.state[name].live[reinsert - 1]:
            keys = np.array([reinsert], dtype=np.int64)
            self.insert(name, self._times(rng, 1), rng, keys=keys, kind=A.REINSERT_AFTER_DELETE)

        def one(deletable: bool = False) -> Arr:
            return self._draw(name, 1, rng, deletable=deletable)

        if len(key := one()):
            first, second = np.sort(self._times(rng, 2, index=0))
            self.update(name, key, first[None], rng, kind=A.UPDATED_TWICE_IN_FILE)
            self.update(name, key, (second + 1)[None], rng, kind=A.UPDATED_TWICE_IN_FILE)
        if len(key := one()):
            self.update(name, key, self._times(rng, 1, 0), rng, kind=A.UPDATED_TWICE_ACROSS_FILES)
            self.update(name, key, self._times(rng, 1, 1), rng, kind=A.UPDATED_TWICE_ACROSS_FILES)
        if len(key := one()):  # the older update is held back and arrives with the next batch
            older, newer = np.sort(self._times(rng, 2))
            self.update(name, key, older[None], rng, kind=A.LATE_CHANGE, deliver=later)
            self.update(name, key, (newer + 1)[None], rng)
        if len(key := one(deletable=True)):  # an update older than the delete, arriving after it
            older, newer = np.sort(self._times(rng, 2))
            self.update(name, key, older[None], rng, kind=A.STALE_AFTER_DELETE, deliver=later)
            self.delete(name, key, (newer + 1)[None], rng)
        if len(key := one(deletable=True)):
            self.delete(name, key, self._times(rng, 1, 0), rng, kind=A.DELETE_REINSERT)
            last = clock.CDC_FILES - 1
            self.insert(name, self._times(rng, 1, last), rng, keys=key, kind=A.DELETE_REINSERT)
        if len(key := one(deletable=True)):
            self.delete(name, key, self._times(rng, 1), rng, key_only=True, kind=A.DELETE_KEY_ONLY)
            self._reinsert[name] = int(key[0])
        for kind, rule in self._quarantine_plan(table):
            times = self._times(rng, 1)
            if kind == A.NULL_KEY:
                image = table.new_rows(self, times, rng)
                self._emit(name, "I", np.zeros(1, dtype=np.int64), times, image, kind=kind)
            elif not len(key := one()):
                continue
            elif kind == A.RULE_VIOLATION:
                override = table.violations[rule]
                self.update(
                    name, key, times, rng, apply=False, kind=kind, rule=rule, override=override
                )
            elif kind == A.BAD_OP:
                self.update(name, key, times, rng, apply=False, op="X", kind=kind)
            else:
                text = table.uncastable[1]
                self.update(name, key, times, rng, apply=False, kind=kind, rule=rule, bad_text=text)

    def _quarantine_plan(self, table: TableSim) -> list[tuple[str, str]]:
        """This batch's rows that silver must quarantine for ``table``, as (kind, rule).

        Few enough to stay under silver's default bad-row ratio: about QUARANTINE_SHARE of
        the batch's rows, yet enough that within COVERAGE_BATCHES batches every rule of the
        table appears (and, for tables with ``carries_generic``, a NULL key, an uncastable
        value and an unknown Op). Kinds rotate from batch to batch.
        """
        kinds = [(A.RULE_VIOLATION, rule) for rule in table.violations]
        generic = [
            (A.NULL_KEY, A.PK_NOT_NULL),
            (A.UNCASTABLE, A.castable_rule(table.uncastable[0])),
            (A.BAD_OP, A.OP_KNOWN),
        ]
        required = len(kinds) + (len(generic) if table.carries_generic else 0)
        kinds += generic
        expected = table.batch_rows(self.batch_base(table.name))
        cap = max(-(-required // COVERAGE_BATCHES), int(QUARANTINE_SHARE * expected))
        cap = min(cap, len(kinds))
        start = (self.batch - 1) * cap
        return [kinds[(start + i) % len(kinds)] for i in range(cap)]

    def batch_base(self, name: str) -> int:
        """The full-load size a CDC batch of ``name`` is a share of: the table's own, or as
        at :attr:`batch_scale` when that differs from the scale."""
        if self.batch_scale == self.scale:
            return self.loaded[name]
        return max(1, round(self.loaded[name] * self.batch_scale / self.scale))

    def _regular(self, table: TableSim, rng: np.random.Generator) -> None:
        name = table.name
        inserts, updates, deletes = table.volumes(self.batch_base(name))
        keys = self._draw(name, deletes, rng, deletable=True)
        if len(keys):
            self.delete(name, keys, self._times(rng, len(keys)), rng)
        where = self._recent(name) if self.changes == RECENT else None
        keys = table.pick_updates(self, self._candidates(name, where=where), updates, rng)
        if len(keys):
            self.update(name, keys, self._times(rng, len(keys)), rng)
        if inserts:
            self.insert(name, self._times(rng, inserts), rng)

    # ---------------------------------------------------------------- primitives
    def insert(
        self,
        name: str,
        times: Arr,
        rng: np.random.Generator,
        *,
        keys: Arr | None = None,
        cols: Cols | None = None,
        kind: str | None = None,
    ) -> Arr:
        """Insert rows (new keys, or the given deleted ``keys`` again) and their children."""
        table, state = self.tables[name], self.state[name]
        if cols is None:
            cols = table.new_rows(self, times, rng)
        if keys is None:
            keys = state.append(cols)
        else:
            state.put(keys, cols)
            state.live[keys - 1] = True
            state.refs[keys - 1] = 0
        self._count_refs(table, cols, +1)
        self._emit(name, "I", keys, times, cols, kind=kind)
        table.after_insert(self, keys, times, rng)
        return keys

    def update(
        self,
        name: str,
        keys: Arr,
        times: Arr,
        rng: np.random.Generator,
        *,
        apply: bool = True,
        op: str = "U",
        kind: str | None = None,
        rule: str | None = None,
        override: tuple[str, Any] | None = None,
        bad_text: str | None = None,
        deliver: int | None = None,
    ) -> None:
        """Change rows; ``apply=False`` emits a change the pipeline must not apply."""
        cols = self.tables[name].changed(self, keys, times, rng)
        if override is not None:
            column, value = override
            cols[column] = np.full(len(keys), value, dtype=cols[column].dtype)
        if apply:
            self.state[name].put(keys, cols)
        self._emit(
            name,
            op,
            keys,
            times,
            cols,
            kind=kind,
            rule=rule,
            bad_text=bad_text,
            deliver=deliver,
        )

    def delete(
        self,
        name: str,
        keys: Arr,
        times: Arr,
        rng: np.random.Generator,
        *,
        key_only: bool = False,
        kind: str | None = None,
    ) -> None:
        """Delete rows after their cascading children; the D row carries the old image."""
        table, state = self.tables[name], self.state[name]
        table.before_delete(self, keys, times, rng)
        cols = state.rows(keys)
        self._count_refs(table, cols, -1)
        state.live[keys - 1] = False
        self._emit(name, "D", keys, times, cols, kind=kind, key_only=key_only)

    def pick_parent(
        self, name: str, count: int, rng: np.random.Generator, where: Arr | None = None
    ) -> Arr:
        """``count`` keys of live rows of ``name`` this batch leaves alone (with repeats)."""
        keys = self._candidates(name, where=where)
        if not len(keys):
            keys = np.nonzero(self.state[name].live)[0] + 1
        return rng.choice(keys, size=count)

    # ---------------------------------------------------------------- internals
    def _candidates(self, name: str, *, deletable: bool = False, where: Arr | None = None) -> Arr:
        taken = self._taken[name]
        mask = self.state[name].live[: len(taken)] & ~taken
        if deletable:
            mask &= self.tables[name].deletable(self)[: len(taken)]
        if where is not None:
            mask &= where[: len(taken)]
        return np.nonzero(mask)[0].astype(np.int64) + 1

    def _recent(self, name: str) -> Arr:
        """Mask of the newest :data:`RECENT_SHARE` of the table's keys (keys grow with time)."""
        size = self.state[name].size
        return np.arange(size) >= size - max(1, math.ceil(size * RECENT_SHARE))

    def _draw(self, name: str, count: int, rng: np.random.Generator, *, deletable: bool) -> Arr:
        """``count`` keys to change (among the newest rows in a ``recent`` batch)."""
        where = self._recent(name) if self.changes == RECENT else None
        keys = self._candidates(name, deletable=deletable, where=where)
        keys = rng.choice(keys, size=min(count, len(keys)), replace=False)
        self._mark(name, keys)
        return keys

    def _mark(self, name: str, keys: Arr) -> None:
        taken = self._taken[name]
        keys = keys[(keys > 0) & (keys <= len(taken))]
        taken[keys - 1] = True

    def _times(self, rng: np.random.Generator, count: int, index: int | None = None) -> Arr:
        """``count`` sorted commit times in the batch (or in its file ``index``)."""
        if index is None:
            start, end = clock.batch_start(self.batch), clock.batch_end(self.batch)
        else:
            start, end = clock.file_window(self.batch, index)
        margin = clock.MINUTE
        return np.sort(rng.integers(start + margin, end - margin, size=count, dtype=np.int64))

    def _count_refs(self, table: TableSim, cols: Cols, sign: int) -> None:
        for column, parent in table.parents.items():
            np.add.at(self.state[parent].refs, cols[column] - 1, sign)

    def _emit(
        self,
        name: str,
        op: str,
        keys: Arr,
        times: Arr,
        cols: Cols,
        *,
        kind: str | None = None,
        rule: str | None = None,
        bad_text: str | None = None,
        key_only: bool = False,
        deliver: int | None = None,
    ) -> None:
        count = len(keys)
        self._mark(name, keys)
        table = self.tables[name]
        if rule is None and kind == A.NULL_KEY:
            rule = A.PK_NOT_NULL
        if rule is None and kind == A.BAD_OP:
            rule = A.OP_KNOWN
        meta: Cols = {
            "op": np.full(count, op, dtype=object),
            "key": np.asarray(keys, dtype=np.int64).copy(),
            "time": np.asarray(times, dtype=np.int64).copy(),
            "deliver": np.full(count, self.batch if deliver is None else deliver, dtype=np.int64),
            "key_only": np.full(count, key_only, dtype=bool),
            "kind": np.full(count, kind, dtype=object),
            "rule": np.full(count, rule, dtype=object),
            "bad_text": np.full(count, bad_text, dtype=object),
        }
        images = {c: np.asarray(cols[c]).copy() for c in table.value_columns}
        self._chunks[name].append(ChangeBatch(meta, images))

    def _sequence(self, changes: dict[str, ChangeBatch]) -> None:
        """Number this batch's changes per source database in commit order.

        ``change_seq`` imitates DMS's ``$AR_H_CHANGE_SEQ``: 35 digits, commit second first, so
        it increases strictly across the whole database and every batch.
        """
        sources = sorted({t.source for t in self.tables.values()})
        for source in sources:
            names = [n for n, t in self.tables.items() if t.source == source]
            times = np.concatenate([changes[n].meta["time"] for n in names])
            rank = np.empty(len(times), dtype=np.int64)
            rank[np.argsort(times, kind="stable")] = np.arange(len(times))
            offset = 0
            for name in names:
                meta = changes[name].meta
                count = len(meta["time"])
                meta["origin"] = np.full(count, self.batch, dtype=np.int64)
                meta["rank"] = rank[offset : offset + count]
                meta["seq"] = change_seq(meta["time"], self.batch, meta["rank"])
                offset += count
