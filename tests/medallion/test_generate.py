"""The source simulator: DMS-shaped landing files, determinism, and the promised anomalies.

No Spark here: files are read back with pyarrow, and a small reference implementation of the
CDC contract (docs/contract.md#landing, the demo rules of docs/demo.md#quality-rules) checks
that applying the landed changes gives exactly the state the simulator says silver must hold.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from medallion.generate import (
    DEFAULT_BATCHES,
    MANIFEST_PATH,
    expected_states,
    format_batches,
    generate,
    parse_batches,
)
from medallion.generate import anomalies as A
from medallion.generate.engine import RECENT_SHARE, Simulation
from medallion.generate.files import to_text
from medallion.generate.tables import demo_tables
from medallion.layout import Lakehouse
from medallion.spec import Column, Domain, Table
from tests.demo import load_demo
from tests.e2e.moto import Aws

SCALE = 0.002
SEED = 7
LAST = DEFAULT_BATCHES - 1
CDC_NAME = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/(\d{8})-(\d{9})\.(parquet|csv)$")
LOAD_NAME = re.compile(r"^LOAD[0-9A-F]{8}\.(parquet|csv)$")

Row = dict[str, Any]


# ------------------------------------------------------------------ helpers
def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def table_dir(landing: Path, table: Table) -> Path:
    return landing / table.source / table.name


def read(path: Path) -> pa.Table:
    """A landing file with every value as text, as bronze keeps it."""
    if path.suffix == ".csv":
        options = pcsv.ConvertOptions(
            column_types={}, strings_can_be_null=True, null_values=[""], auto_dict_encode=False
        )
        header = path.read_text().split("\n", 1)[0].split(",")
        options.column_types = dict.fromkeys(header, pa.string())
        return pcsv.read_csv(path, convert_options=options)
    content = pq.read_table(path)
    return pa.table(
        {name: to_text(content[name].combine_chunks()) for name in content.column_names}
    )


def rows_of(landing: Path, table: Table) -> list[Row]:
    """Every landed row with its lineage (file key, row position, full-load flag)."""
    folder = table_dir(landing, table)
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        key = str(path.relative_to(folder))
        for position, row in enumerate(read(path).to_pylist()):
            row.update(_file=key, _row=position, _full_load=key.startswith("LOAD"))
            out.append(row)
    return out


def manifest(landing: Path) -> dict[str, Any]:
    content: dict[str, Any] = json.loads((landing / MANIFEST_PATH).read_text())
    return content


def entries(landing: Path) -> list[dict[str, Any]]:
    return [e for b in manifest(landing)["batches"].values() for e in b["anomalies"]]


def _castable(value: str, declared: str) -> bool:
    try:
        if declared in ("bigint", "int", "smallint"):
            int(value)
        elif declared.startswith("decimal"):
            precision, scale = map(int, re.findall(r"\d+", declared))
            number = Decimal(value)
            exponent = number.as_tuple().exponent
            assert isinstance(exponent, int)
            whole = len(str(abs(number.quantize(Decimal(1))))) if abs(number) >= 1 else 0
            return -exponent <= scale and whole <= precision - scale
        elif declared == "date":
            date.fromisoformat(value)
        elif declared == "timestamp":
            datetime.fromisoformat(value)
        elif declared == "boolean":
            return value in ("true", "false")
    except (ValueError, InvalidOperation):
        return False
    return True


RULES = {
    "email_is_address": lambda r: re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", r["email"] or ""),
    "unit_price_positive": lambda r: Decimal(r["unit_price"]) > 0,
    "status_known": lambda r: r["status"] in ("completed", "cancelled", "pending"),
    "total_amount_not_negative": lambda r: Decimal(r["total_amount"]) >= 0,
    "quantity_positive": lambda r: int(r["quantity"]) > 0,
    "unit_price_not_negative": lambda r: Decimal(r["unit_price"]) >= 0,
    "discount_in_range": lambda r: 0 <= Decimal(r["discount"]) < 1,
    "age_in_range": lambda r: 14 <= int(r["age"]) <= 100,
    "salary_not_negative": lambda r: Decimal(r["salary"]) >= 0,
}


def failed_rule(table: Table, row: Row) -> str | None:
    """The first check a landed row fails (docs/demo.md#quality-rules), or None."""
    op = (row.get("Op") or "I").strip().upper()
    if op not in ("I", "U", "D"):
        return A.OP_KNOWN
    if row[table.primary_key[0]] is None:
        return A.PK_NOT_NULL
    if op == "D":
        return None
    for column in table.columns:
        value = row[column.name]
        if value is not None and not _castable(value, column.type):
            return A.castable_rule(column.name)
    for rule in table.rules:
        if not RULES[rule.name](row):
            return rule.name
    return None


def order(row: Row) -> tuple[Any, ...]:
    """The contract's change ordering (change_seq, commit_ts NULLS FIRST, then lineage)."""
    seq = row.get("change_seq")
    return (
        (seq is not None, int(seq) if seq else 0),
        (row["commit_ts"] is not None, row["commit_ts"] or ""),
        not row["_full_load"],
        row["_file"],
        row["_row"],
    )


def apply_changes(table: Table, rows: list[Row]) -> dict[str, Row]:
    """APPLY CHANGES semantics over rows that pass the checks: the latest change per key wins."""
    latest: dict[str, Row] = {}
    for row in sorted(rows, key=order):
        latest[row[table.primary_key[0]]] = row
    return {k: r for k, r in latest.items() if (r.get("Op") or "I").strip().upper() != "D"}


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default run (batches 0..3) at a tiny scale, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("generated")
    generate(Lakehouse.at(str(root)), domain=load_demo(), scale=SCALE, seed=SEED)
    return root / "landing"


@pytest.fixture(scope="module")
def states() -> dict[str, pa.Table]:
    """What silver must hold after the default run."""
    return expected_states(domain=load_demo(), scale=SCALE, seed=SEED, through_batch=LAST)


# ------------------------------------------------------------------ parse_batches
@pytest.mark.parametrize(
    ("text", "expected"),
    [("0-3", [0, 1, 2, 3]), ("0,2", [0, 2]), ("3", [3]), (" 0-1, 3 ,1", [0, 1, 3])],
)
def test_parse_batches_reads_ranges_and_lists(text: str, expected: list[int]) -> None:
    assert parse_batches(text) == expected
    assert parse_batches(format_batches(expected)) == expected


@pytest.mark.parametrize("text", ["", "a", "1-", "-1", "3-1", "1,,2", "1.5", "0-3x"])
def test_parse_batches_rejects_garbage_with_a_clear_message(text: str) -> None:
    with pytest.raises(ValueError, match="invalid batches"):
        parse_batches(text)


def test_generate_rejects_bad_arguments(tmp_path: Path) -> None:
    lakehouse = Lakehouse.at(str(tmp_path))
    with pytest.raises(ValueError, match="scale"):
        generate(lakehouse, domain=load_demo(), scale=0)
    with pytest.raises(ValueError, match="batches"):
        generate(lakehouse, domain=load_demo(), scale=SCALE, batches=[-1])


# ------------------------------------------------------------------ determinism
def test_same_seed_and_scale_give_identical_bytes(tmp_path: Path, landing: Path) -> None:
    generate(Lakehouse.at(str(tmp_path / "again")), domain=load_demo(), scale=SCALE, seed=SEED)
    generate(
        Lakehouse.at(str(tmp_path / "other")),
        domain=load_demo(),
        scale=SCALE,
        seed=SEED + 1,
        batches=[0],
    )
    again = tree(tmp_path / "again" / "landing")
    assert again == tree(landing)
    other = tree(tmp_path / "other" / "landing")
    assert other["retail/sales/LOAD00000001.parquet"] != again["retail/sales/LOAD00000001.parquet"]


def test_a_batch_written_later_equals_the_same_batch_of_a_full_run(tmp_path: Path) -> None:
    split, whole = Lakehouse.at(str(tmp_path / "split")), Lakehouse.at(str(tmp_path / "whole"))
    generate(split, domain=load_demo(), scale=SCALE, seed=SEED, batches=[0, 1])
    before = tree(Path(split.landing))
    report = generate(split, domain=load_demo(), scale=SCALE, seed=SEED, batches=[2])
    generate(whole, domain=load_demo(), scale=SCALE, seed=SEED, batches=[0, 1, 2])
    assert tree(Path(split.landing)) == tree(Path(whole.landing))  # manifest merged too
    assert report.batches == [2]
    redelivered = [
        e["file"] for e in entries(Path(split.landing)) if e["kind"] == A.REDELIVERED_FILE
    ]
    assert redelivered
    for e in entries(Path(split.landing)):
        if e["kind"] == A.REDELIVERED_FILE:  # same name and bytes as in batch 1
            relative = f"{e['source']}/{e['table']}/{e['file']}"
            assert before[relative] == tree(Path(split.landing))[relative]
            assert e["file"] in manifest(Path(split.landing))["batches"]["1"]["files"][e["table"]]


@pytest.mark.s3
def test_writes_the_same_files_to_s3(aws: Aws, tmp_path: Path) -> None:
    remote = Lakehouse.at(aws.uri("lake"))
    generate(remote, domain=load_demo(), scale=SCALE, seed=SEED, batches=[0])
    generate(
        remote, domain=load_demo(), scale=SCALE, seed=SEED, batches=[1]
    )  # merges the manifest read from S3
    generate(
        Lakehouse.at(str(tmp_path)), domain=load_demo(), scale=SCALE, seed=SEED, batches=[0, 1]
    )
    local = tree(tmp_path / "landing")
    listed = aws.s3.list_objects_v2(Bucket=aws.bucket, Prefix="lake/landing/")
    keys = sorted(o["Key"].removeprefix("lake/landing/") for o in listed.get("Contents", []))
    assert keys == sorted(local)
    for key in (MANIFEST_PATH, "hr/employees/LOAD00000001.csv"):
        body = aws.s3.get_object(Bucket=aws.bucket, Key=f"lake/landing/{key}")["Body"].read()
        assert body == local[key]


def test_refuses_to_mix_batches_of_another_seed(tmp_path: Path) -> None:
    lakehouse = Lakehouse.at(str(tmp_path))
    generate(lakehouse, domain=load_demo(), scale=SCALE, seed=SEED, batches=[0])
    with pytest.raises(ValueError, match="seed=7"):
        generate(lakehouse, domain=load_demo(), scale=SCALE, seed=SEED + 1, batches=[1])


# ------------------------------------------------------------------ layout
def test_files_are_laid_out_as_dms_writes_them(landing: Path) -> None:
    content = manifest(landing)
    assert sorted(content["batches"]) == [str(b) for b in range(DEFAULT_BATCHES)]
    assert not list((landing / "_generator").glob("*/*")), "manifest outside table folders"
    for table in load_demo().tables:
        folder = table_dir(landing, table)
        extension = "csv" if table.source == "hr" else "parquet"
        files = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
        loads = [f for f in files if LOAD_NAME.match(f)]
        assert loads == ["LOAD00000001." + extension], table.name
        cdc = [f for f in files if f not in loads]
        assert cdc and all(CDC_NAME.match(f) for f in cdc), cdc
        for name in cdc:
            yyyy, mm, dd, day, _, ext = CDC_NAME.match(name).groups()  # type: ignore[union-attr]
            assert (day, ext) == (yyyy + mm + dd, extension)
        for batch in range(1, DEFAULT_BATCHES):
            keys = content["batches"][str(batch)]["files"][table.name]
            assert len(keys) >= 2, f"{table.name}: batch {batch} spans several files"


def test_full_load_is_typed_and_holds_only_inserts(landing: Path) -> None:
    load = pq.read_table(landing / "retail/sales_items/LOAD00000001.parquet")
    assert "Op" not in load.column_names
    assert load.schema.field("unit_price").type == pa.decimal128(10, 2)
    assert load.schema.field("discount").type == pa.decimal128(4, 3)
    assert load.schema.field("quantity").type == pa.int32()
    assert load.schema.field("sale_item_id").type == pa.int64()
    assert pa.types.is_timestamp(load.schema.field("commit_ts").type)
    assert load["change_seq"].null_count == load.num_rows
    sales = pq.read_table(landing / "retail/sales/LOAD00000001.parquet")
    assert pa.types.is_timestamp(sales.schema.field("sale_ts").type)
    people = pq.read_table(landing / "retail/sales_people/LOAD00000001.parquet")
    assert people.schema.field("hire_date").type == pa.date32()
    assert people.schema.field("active").type == pa.bool_()
    employees = read(landing / "hr/employees/LOAD00000001.csv")
    assert employees.column_names == [
        "commit_ts",
        "employee_id",
        "name",
        "age",
        "active",
        "salary",
        "reference_date",
    ]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?", employees["commit_ts"][0].as_py()
    )


def test_cdc_files_carry_op_commit_ts_and_a_strictly_increasing_change_seq(landing: Path) -> None:
    changes = []
    for table in load_demo().tables:
        for row in rows_of(landing, table):
            if not row["_full_load"] and table.source == "retail":
                assert row["Op"] in ("I", "U", "D", "X")
                changes.append((row["change_seq"], row["commit_ts"]))
    seqs = [seq for seq, _ in changes]
    assert len(set(seqs)) == len(seqs), "one change_seq per change across the database"
    assert all(len(s) == 35 and s.isdigit() for s in seqs)
    stamps = [ts for _, ts in sorted(changes)]
    assert stamps == sorted(stamps), "change_seq and commit_ts order agree"


def test_employees_csv_has_no_change_seq_and_empty_fields_for_nulls(landing: Path) -> None:
    folder = landing / "hr/employees"
    deleted = [e for e in entries(landing) if e["table"] == "employees"]
    key_only = [e for e in deleted if e["kind"] == A.DELETE_KEY_ONLY]
    assert key_only
    for e in key_only:
        lines = (folder / e["file"]).read_text().splitlines()
        header, line = lines[0].split(","), lines[1 + e["row"]].split(",")
        assert "change_seq" not in header
        values = dict(zip(header, line, strict=True))
        assert values["Op"] == "D" and values["employee_id"] == str(e["key"])
        assert all(values[c] == "" for c in ("name", "age", "active", "salary", "reference_date"))
    null_key = next(e for e in deleted if e["kind"] == A.NULL_KEY)
    line = (folder / null_key["file"]).read_text().splitlines()[1 + null_key["row"]]
    assert line.split(",")[2] == ""  # Op, commit_ts, employee_id


# ------------------------------------------------------------------ the domain's content
def test_sizes_and_values_are_realistic() -> None:
    sim = Simulation(demo_tables(), scale=0.01, seed=SEED)
    sim.load()
    size = {name: state.size for name, state in sim.state.items()}
    assert size["clients"] == 500 and size["sales"] == 3000 and size["employees"] == 200
    assert 3.0 < size["sales_items"] / size["sales"] < 3.8
    assert 1.1 < size["client_addresses"] / size["clients"] < 1.3
    sales = sim.state["sales"].cols
    assert Counter(sales["status"])["completed"] / size["sales"] > 0.85
    span_days = (sales["sale_ts"].max() - sales["sale_ts"].min()) / 86_400e6
    assert 700 < span_days < 731
    months = {str(d)[:7] for d in sim.state["employees"].cols["reference_date"].astype("M8[D]")}
    assert len(months) >= 20
    changed = sum(len(c) for c in sim.run_batch(1).values())
    assert 0.005 < changed / sum(size.values()) < 0.03, "a CDC batch is about 1% of the data"


def test_foreign_keys_point_at_live_rows(states: dict[str, pa.Table]) -> None:
    def keys(table: str, column: str) -> set[Any]:
        return set(states[table][column].to_pylist())

    assert keys("sales", "client_id") <= keys("clients", "client_id")
    assert keys("sales", "sales_person_id") <= keys("sales_people", "sales_person_id")
    assert keys("sales_items", "sale_id") <= keys("sales", "sale_id")
    assert keys("sales_items", "product_id") <= keys("products", "product_id")
    assert keys("client_addresses", "client_id") <= keys("clients", "client_id")


# ------------------------------------------------------------------ anomalies
def test_every_anomaly_kind_is_injected(landing: Path) -> None:
    found = defaultdict(set)
    rules = defaultdict(set)
    for e in entries(landing):
        found[e["table"]].add(e["kind"])
        if e["kind"] == A.RULE_VIOLATION:
            rules[e["table"]].add(e["rule"])
    harmless = set(A.EXPECT) - A.QUARANTINED - {A.NEW_COLUMN}
    generic = {A.NULL_KEY, A.UNCASTABLE, A.BAD_OP}
    for table in load_demo().tables:
        assert harmless <= found[table.name], (table.name, harmless - found[table.name])
        assert rules[table.name] == {r.name for r in table.rules}, table.name
    assert generic <= found["employees"], "the CSV table"
    assert generic <= found["sales_items"], "a parquet table"
    assert {t for t, kinds in found.items() if A.NEW_COLUMN in kinds} == {"sales", "employees"}


def test_bad_rows_stay_under_the_default_bad_row_ratio(tmp_path: Path) -> None:
    """At the default scale, a pipeline run per batch quarantines few enough rows to pass."""
    from medallion.silver import MAX_BAD_RATIO

    generate(Lakehouse.at(str(tmp_path)), domain=load_demo(), scale=0.05, seed=SEED)
    landing = tmp_path / "landing"
    content = manifest(landing)
    for batch in range(1, DEFAULT_BATCHES):
        listed = content["batches"][str(batch)]
        bad = Counter(e["table"] for e in listed["anomalies"] if e["kind"] in A.QUARANTINED)
        for table in load_demo().tables:
            folder = table_dir(landing, table)
            rows = sum(read(folder / key).num_rows for key in listed["files"][table.name])
            assert bad[table.name] / rows < MAX_BAD_RATIO * 0.8, (batch, table.name, rows)
            assert bad[table.name] <= 6


def test_manifest_rows_are_in_the_files_as_described(landing: Path) -> None:
    rows = {t.name: rows_of(landing, t) for t in load_demo().tables}
    located = {(t, r["_file"], r["_row"]): r for t, rs in rows.items() for r in rs}
    for e in entries(landing):
        table = load_demo().table(e["table"])
        pk = table.primary_key[0]
        if e["row"] is None:
            content = read(table_dir(landing, table) / e["file"])
            if e["kind"] == A.NEW_COLUMN:
                assert e["column"] in content.column_names
                assert e["column"] not in table.column_names
            continue
        row = located[(e["table"], e["file"], e["row"])]
        assert row["Op"] == e["op"]
        assert row[pk] == (None if e["key"] is None else str(e["key"]))
        same_key = [r for r in rows[e["table"]] if r[pk] == row[pk] and r is not row]
        kind = e["kind"]
        if kind in A.QUARANTINED:
            assert failed_rule(table, row) == e["rule"], e
        elif kind == A.DELETE_KEY_ONLY:
            assert row["Op"] == "D"
            assert all(row[c] is None for c in table.column_names if c != pk)
        elif kind in (A.LATE_CHANGE, A.STALE_AFTER_DELETE):
            newer = [r for r in same_key if order(r) > order(row) and r["_file"] < row["_file"]]
            assert newer, f"{kind}: a newer change arrived earlier ({e})"
            if kind == A.STALE_AFTER_DELETE:
                assert newer[-1]["Op"] == "D"
        elif kind == A.UPDATED_TWICE_IN_FILE:
            assert any(r["_file"] == row["_file"] and r["Op"] == "U" for r in same_key)
        elif kind == A.UPDATED_TWICE_ACROSS_FILES:
            assert any(r["_file"] != row["_file"] and r["Op"] == "U" for r in same_key)
        elif kind == A.DELETE_REINSERT:
            pair = {r["Op"] for r in same_key if r["_file"][:10] == row["_file"][:10]}
            assert pair | {row["Op"]} >= {"D", "I"}
        elif kind == A.REINSERT_AFTER_DELETE:
            assert row["Op"] == "I"
            assert any(r["Op"] == "D" and order(r) < order(row) for r in same_key)


def test_uncastable_values_sit_in_a_string_typed_parquet_column(landing: Path) -> None:
    found = 0
    for e in entries(landing):
        if e["kind"] == A.UNCASTABLE and e["table"] == "sales_items":
            content = pq.read_table(landing / "retail/sales_items" / e["file"])
            assert content.schema.field("unit_price").type == pa.string()
            assert content["unit_price"][e["row"]].as_py() == "n/a"
            found += 1
    assert found >= 1


def test_only_manifest_rows_break_rules_and_applying_changes_gives_the_expected_state(
    landing: Path, states: dict[str, pa.Table]
) -> None:
    quarantined = {
        (e["table"], e["file"], e["row"]) for e in entries(landing) if e["kind"] in A.QUARANTINED
    }
    for table in load_demo().tables:
        rows = rows_of(landing, table)
        failing = {(table.name, r["_file"], r["_row"]) for r in rows if failed_rule(table, r)}
        assert failing == {q for q in quarantined if q[0] == table.name}, table.name
        applied = apply_changes(table, [r for r in rows if not failed_rule(table, r)])
        state = states[table.name]
        expected = {
            str(r[table.primary_key[0]]): r
            for r in pa.table(
                {c: to_text(state[c].combine_chunks()) for c in state.column_names}
            ).to_pylist()
        }
        assert applied.keys() == expected.keys(), table.name
        for key, row in expected.items():
            assert {c: applied[key][c] for c in table.column_names} == row, (table.name, key)


# ------------------------------------------------------------------ report and domain
def test_report_matches_what_landed(tmp_path: Path) -> None:
    messages: list[str] = []
    report = generate(
        Lakehouse.at(str(tmp_path)),
        domain=load_demo(),
        scale=SCALE,
        seed=SEED,
        batches=[0, 1],
        progress=messages.append,
    )
    landing = tmp_path / "landing"
    files = [p for p in landing.rglob("*") if p.is_file() and "_generator" not in p.parts]
    assert report.files == len(files)
    assert report.bytes == sum(p.stat().st_size for p in files)
    assert report.tables["sales_items"].rows["I"] > report.tables["sales"].rows["I"]
    assert report.tables["employees"].rows["D"] >= 1
    assert sum(report.anomalies.values()) == len(entries(landing))
    assert any("sales_items" in m for m in messages)
    assert "sales_items" in str(report) and report.manifest.endswith(MANIFEST_PATH)


def test_domain_tables_are_checked_and_unknown_ones_skipped(tmp_path: Path) -> None:
    extra = Table(
        name="stores",
        source="retail",
        columns=(Column("store_id", "bigint"),),
        primary_key=("store_id",),
    )
    employees = load_demo().table("employees")
    report = generate(
        Lakehouse.at(str(tmp_path)),
        scale=SCALE,
        batches=[0],
        domain=Domain(tables=(employees, extra)),
    )
    assert report.skipped == ["stores"] and list(report.tables) == ["employees"]
    renamed = Table(
        name="employees",
        source="hr",
        columns=(*employees.columns[:-1], Column("ref_date", "date")),
        primary_key=("employee_id",),
    )
    with pytest.raises(ValueError, match="employees") as refused:
        generate(Lakehouse.at(str(tmp_path / "x")), scale=SCALE, domain=Domain(tables=(renamed,)))
    assert "not the demo" in str(refused.value) and "ref_date" in str(refused.value)


def test_a_domain_that_is_not_the_demo_is_refused(tmp_path: Path) -> None:
    stores = Table(
        name="stores",
        source="retail",
        columns=(Column("store_id", "bigint"),),
        primary_key=("store_id",),
    )
    with pytest.raises(ValueError, match="not the demo") as refused:
        generate(Lakehouse.at(str(tmp_path)), scale=SCALE, domain=Domain(tables=(stores,)))
    message = str(refused.value)
    assert "declared: stores" in message
    assert all(t.name in message for t in load_demo().tables)  # every missing table is named
    assert not (tmp_path / "landing").exists()  # nothing written


def _old_share(changes: str) -> float:
    """Share of a CDC batch's updates and deletes (anomalies and cascades included) that hit
    rows older than the newest :data:`RECENT_SHARE` of their table."""
    sim = Simulation(demo_tables(), scale=0.05, seed=7, changes=changes)
    sim.load()
    sizes = {name: state.size for name, state in sim.state.items()}
    hits = old = 0
    for name, batch in sim.run_batch(1).items():
        keys = batch.meta["key"][np.isin(batch.meta["op"], ["U", "D"])]
        hits += len(keys)
        old += int((keys <= sizes[name] * (1 - RECENT_SHARE)).sum())
    assert hits > 100
    return old / hits


def test_recent_batches_change_only_the_newest_rows() -> None:
    assert _old_share("recent") == 0
    assert _old_share("spread") > 0.5


def test_a_replayed_batch_keeps_the_kind_it_was_written_with(tmp_path: Path) -> None:
    """Batch 2 follows the source state batch 1 left: written alone later, it replays batch 1
    as the manifest recorded it (``recent``), so it differs from a batch 2 after a spread 1."""

    def batch_2(name: str, first: str) -> dict[str, bytes]:
        lakehouse = Lakehouse.at(str(tmp_path / name))
        generate(lakehouse, domain=load_demo(), scale=0.01, batches=[0, 1], changes=first)
        generate(lakehouse, domain=load_demo(), scale=0.01, batches=[2])
        landing = Path(lakehouse.landing)
        manifest = json.loads((landing / MANIFEST_PATH).read_text())
        assert manifest["batches"]["1"].get("changes", "spread") == first
        assert "changes" not in manifest["batches"]["2"]
        return {
            key: next(landing.rglob(Path(key).name)).read_bytes()
            for keys in manifest["batches"]["2"]["files"].values()
            for key in keys
        }

    assert batch_2("after_recent", "recent") != batch_2("after_spread", "spread")


def _batch_rows(scale: float, batch_scale: float | None = None) -> dict[str, int]:
    """Changes per table in CDC batch 1 (late ones held back for batch 2 included)."""
    sim = Simulation(demo_tables(), scale=scale, seed=7, batch_scale=batch_scale)
    sim.load()
    delivered = sim.run_batch(1)
    return {
        name: len(batch.meta["key"]) + len(sim.pending[name].meta["key"])
        for name, batch in delivered.items()
    }


def test_a_batch_scale_sizes_the_batch_as_that_scale_does() -> None:
    """At scale 0.2 with the batch sized as at 0.05, each table gets about as many changes as
    at scale 0.05, a quarter of its own batch (the fixed anomalies aside)."""
    small, large = _batch_rows(0.05), _batch_rows(0.2)
    sized = _batch_rows(0.2, batch_scale=0.05)
    assert sized == _batch_rows(0.2, batch_scale=0.05)  # deterministic
    assert _batch_rows(0.2, batch_scale=0.2) == large  # the default is the scale itself
    for table in ("sales", "sales_items", "clients"):
        assert large[table] > 3 * small[table], (table, small, large)
        assert 0.8 * small[table] <= sized[table] <= 1.2 * small[table], (table, small, sized)


def test_a_replayed_batch_keeps_the_size_it_was_written_with(tmp_path: Path) -> None:
    """The manifest records a batch's size; batch 2 written alone later replays batch 1 at
    that size, so it equals batch 2 of one run writing both."""

    def batch_2(name: str, *, alone: bool) -> dict[str, bytes]:
        lakehouse = Lakehouse.at(str(tmp_path / name))
        demo = load_demo()
        if alone:
            generate(lakehouse, domain=demo, scale=0.02, batches=[0, 1], batch_scale=0.01)
            generate(lakehouse, domain=demo, scale=0.02, batches=[2], batch_scale=0.01)
        else:
            generate(lakehouse, domain=demo, scale=0.02, batches=[0, 1, 2], batch_scale=0.01)
        landing = Path(lakehouse.landing)
        batches = json.loads((landing / MANIFEST_PATH).read_text())["batches"]
        assert "batch_scale" not in batches["0"]
        assert batches["1"]["batch_scale"] == batches["2"]["batch_scale"] == 0.01
        return {
            key: next(landing.rglob(Path(key).name)).read_bytes()
            for keys in batches["2"]["files"].values()
            for key in keys
        }

    assert batch_2("alone", alone=True) == batch_2("together", alone=False)
    with pytest.raises(ValueError, match="batch_scale must be a positive number, got -1"):
        generate(Lakehouse.at(str(tmp_path / "bad")), domain=load_demo(), batch_scale=-1)


def test_an_unknown_change_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="changes must be one of spread, recent, got 'old'"):
        Simulation(demo_tables(), scale=0.05, seed=7, changes="old")


def test_the_command_offers_the_simulators_change_kinds() -> None:
    from medallion import cli
    from medallion.generate.engine import CHANGE_KINDS, SPREAD

    assert cli.CHANGE_KINDS == CHANGE_KINDS and cli.CHANGE_KINDS[0] == SPREAD
