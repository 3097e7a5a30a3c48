"""``medallion generate``: write the demo source database into landing as DMS would."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from medallion.generate import anomalies as A
from medallion.generate import clock
from medallion.generate.engine import SPREAD, ChangeBatch, Simulation, TableSim
from medallion.generate.files import LandingFile, cdc_file, declared_arrays, full_load_files
from medallion.generate.manifest import Entry, Manifest, entry
from medallion.generate.report import GenerateReport, TableFigures
from medallion.generate.store import LandingStore
from medallion.generate.tables import demo_tables
from medallion.layout import Lakehouse
from medallion.spec import Domain, Table

#: Batches written by default: 0 is the full load, 1..3 are CDC batches.
DEFAULT_BATCHES = 4

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")
_FAMILIES = {
    "id": ("bigint", "int", "smallint"),
    "int": ("bigint", "int", "smallint"),
    "ts": ("timestamp",),
    "date": ("date",),
    "bool": ("boolean",),
    "str": ("string",),
}


def parse_batches(text: str) -> list[int]:
    """``"0-3"``, ``"0,2"``, ``"3"`` (or combinations like ``"0-1,3"``) as sorted batch numbers."""
    batches: set[int] = set()
    parts = [part.strip() for part in text.split(",")]
    for part in parts:
        match = _RANGE.match(part)
        if not match:
            raise ValueError(
                f"invalid batches {text!r}: {part!r} is not a batch number or a range; "
                "use e.g. '0-3', '0,2' or '3'"
            )
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last < first:
            raise ValueError(f"invalid batches {text!r}: range {part!r} ends before it starts")
        batches.update(range(first, last + 1))
    return sorted(batches)


def _wanted(batches: Sequence[int] | None) -> list[int]:
    if batches is None:
        return list(range(DEFAULT_BATCHES))
    wanted = sorted(set(batches))
    if not wanted or any(not isinstance(b, int) or b < 0 for b in wanted):
        raise ValueError(f"batches must be non-negative integers, got {list(batches)!r}")
    return wanted


def _plan(sim: Simulation, domain: Domain) -> tuple[list[tuple[TableSim, Table]], list[str]]:
    """Pair each declared table with its simulator; tables without one are skipped.

    The generator writes the demo (docs/demo.md) only: a domain that declares none of its tables,
    or declares one differently, is refused with every difference listed.
    """
    plan, skipped, differences = [], [], []
    for spec in domain.tables:
        table = sim.tables.get(spec.name)
        if table is None:
            skipped.append(spec.name)
            continue
        where = f"table {spec.name!r}"
        if set(spec.column_names) != set(table.columns) or spec.primary_key != (table.key,):
            differences.append(
                f"{where}: declared columns {list(spec.column_names)} (key "
                f"{list(spec.primary_key)}) differ from the demo table the generator simulates "
                f"({list(table.columns)}, key [{table.key!r}])"
            )
            continue
        for column in spec.columns:
            kind = table.columns[column.name]
            family = column.type.split("(")[0]
            allowed = ("decimal",) if kind.startswith("dec") else _FAMILIES[kind]
            if family not in allowed:
                differences.append(
                    f"{where}: column {column.name!r} is declared {column.type} but the "
                    f"generator makes {kind} values"
                )
        plan.append((table, spec))
    if not plan and not differences:
        differences.append(
            f"it declares none of the demo's tables (missing: {', '.join(sim.tables)}; "
            f"declared: {', '.join(t.name for t in domain.tables) or 'none'})"
        )
    if differences:
        raise ValueError(
            "medallion generate writes the demo domain only (the repository's domain/ folder), "
            "and this domain is not the demo:\n  " + "\n  ".join(differences)
        )
    return plan, skipped


def _relative(lakehouse: Lakehouse, spec: Table) -> str:
    return lakehouse.landing_dir(spec).removeprefix(lakehouse.landing).strip("/")


def _cdc_files(
    table: TableSim, spec: Table, changes: ChangeBatch, batch: int, table_index: int
) -> list[LandingFile]:
    """Split a batch's delivered changes into DMS files, rows in commit order.

    Changes held back from an earlier batch arrive in the batch's first file.
    """
    meta = changes.meta
    offset = (meta["time"] - clock.batch_start(batch)) // clock.FILE_SPAN
    index = np.where(meta["origin"] < batch, 0, np.clip(offset, 0, clock.CDC_FILES - 1))
    files = []
    for number in np.unique(index):
        rows = np.nonzero(index == number)[0]
        rows = rows[np.lexsort((meta["rank"][rows], meta["origin"][rows]))]
        key = clock.cdc_file_key(batch, int(number), table_index, table.file_format)
        files.append(cdc_file(table, spec, changes.take(rows), batch, key))
    return files


def _entries(
    batch: int, table: TableSim, landed: list[LandingFile], redelivered: LandingFile | None
) -> list[Entry]:
    def at(kind: str, file: str, **found: Any) -> Entry:
        return entry(
            batch=batch, table=table.name, source=table.source, kind=kind, file=file, **found
        )

    out = [
        at(kind, f.key, key=key, rule=rule, row=row, op=op)
        for f in landed
        for row, kind, key, rule, op in f.tagged
    ]
    if table.extra and batch >= table.extra[1]:
        out += [at(A.NEW_COLUMN, f.key, column=table.extra[0]) for f in landed]
    if redelivered is not None:
        out.append(at(A.REDELIVERED_FILE, redelivered.key))
    return out


def generate(
    lakehouse: Lakehouse,
    *,
    scale: float = 0.05,
    seed: int = 7,
    batches: Sequence[int] | None = None,
    domain: Domain,
    progress: Callable[[str], None] | None = None,
    changes: str = SPREAD,
    batch_scale: float | None = None,
) -> GenerateReport:
    """Write batches of the simulated source into ``lakehouse.landing_dir(table)``.

    Batch 0 is the full load (``LOAD*`` files); batch k >= 1 is day k of CDC
    (``yyyy/mm/dd/<timestamp>`` files) with the anomalies listed in the manifest. The same
    ``seed`` and ``scale`` always give the same bytes, and a batch written alone equals the
    same batch written in a full run. Writing a batch again overwrites its files.
    ``changes`` is the kind of the CDC batches written (``spread`` or ``recent``:
    :data:`~medallion.generate.engine.CHANGE_KINDS`), ``batch_scale`` the scale their size
    follows (default ``scale``: about 1% of each table; ``batch_scale=1`` at ``scale=4`` writes
    as many changed rows as a batch at scale 1). Batches replayed to reach them, but not
    written, take the kind and size the manifest recorded for them.
    """
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    wanted = _wanted(batches)
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    if batch_scale is not None and not (math.isfinite(batch_scale) and batch_scale > 0):
        raise ValueError(f"batch_scale must be a positive number, got {batch_scale!r}")
    store = LandingStore(lakehouse.landing)
    manifest = Manifest.load(store, seed=seed, scale=scale)
    sim = Simulation(demo_tables(), scale=scale, seed=seed, changes=changes)
    plan, skipped = _plan(sim, domain)
    order = {name: index for index, name in enumerate(sim.tables)}
    figures = {t.name: TableFigures(t.name, t.source, t.file_format) for t, _ in plan}
    report = GenerateReport(store.root, seed, scale, wanted, figures, skipped=skipped)

    def land(batch: int, table: TableSim, spec: Table, files: list[LandingFile]) -> None:
        folder = _relative(lakehouse, spec)
        for landed in files:
            store.write(f"{folder}/{landed.key}", landed.data)
            figures[table.name].add(landed)
        rows = sum(f.rows for f in files)
        say(f"batch {batch}: {table.name}: {rows:,} rows in {len(files)} file(s)")

    say(f"simulating the full load at scale {scale:g}")
    sim.load()
    if 0 in wanted:
        written: dict[str, list[str]] = {}
        for table, spec in plan:
            state = sim.state[table.name]
            keys = np.nonzero(state.live)[0] + 1
            files = full_load_files(table, spec, keys, state.cols)
            land(0, table, spec, files)
            written[table.name] = [f.key for f in files]
        manifest.set_batch(0, written, [])

    first_files: dict[str, LandingFile] = {}  # each table's first file of the previous batch
    for batch in range(1, max(wanted) + 1):
        sim.changes = changes if batch in wanted else manifest.changes_of(batch)
        sim.batch_scale = (
            (scale if batch_scale is None else batch_scale)
            if batch in wanted
            else manifest.batch_scale_of(batch)
        )
        delivered = sim.run_batch(batch)
        written, anomalies = {}, []
        for table, spec in plan:
            files = _cdc_files(table, spec, delivered[table.name], batch, order[table.name])
            again = first_files.pop(table.name, None) if batch >= 2 else None
            if files:
                first_files[table.name] = files[0]
            if batch not in wanted:
                continue
            anomalies += _entries(batch, table, files, again)
            land(batch, table, spec, [*files, again] if again else files)
            written[table.name] = [f.key for f in files]
        if batch in wanted:
            manifest.set_batch(batch, written, anomalies, changes, sim.batch_scale)
            report.anomalies.update(Counter(e["kind"] for e in anomalies))
    report.manifest = manifest.save(store)
    report.seconds = time.perf_counter() - started
    return report


def expected_states(
    *,
    scale: float = 0.05,
    seed: int = 7,
    through_batch: int = DEFAULT_BATCHES - 1,
    domain: Domain,
) -> dict[str, pa.Table]:
    """The rows silver must hold for each table after batches ``0..through_batch``.

    Declared columns and types, one row per live key, in key order: every change applied in
    order, rows that must be quarantined or ignored left out.
    """
    sim = Simulation(demo_tables(), scale=scale, seed=seed)
    plan, _ = _plan(sim, domain)
    sim.load()
    for batch in range(1, through_batch + 1):
        sim.run_batch(batch)
    states = {}
    for table, spec in plan:
        state = sim.state[table.name]
        rows = np.nonzero(state.live)[0]
        cols = {name: values[rows] for name, values in state.cols.items()}
        states[table.name] = pa.table(declared_arrays(table, spec, rows + 1, cols))
    return states


def expected_state(
    table: str,
    *,
    scale: float = 0.05,
    seed: int = 7,
    through_batch: int = DEFAULT_BATCHES - 1,
    domain: Domain,
) -> pa.Table:
    """:func:`expected_states` of one table."""
    only = Domain(tables=(domain.table(table),))
    return expected_states(scale=scale, seed=seed, through_batch=through_batch, domain=only)[table]
