"""``medallion infer --from <landing folder>``: declarations from landed parquet and CSV files."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from medallion.cli import main
from medallion.infer.command import infer
from medallion.infer.write import Kind
from tests.infer.support import column, column_types, declaration

LOAD_SCHEMA = pa.schema(
    [
        ("commit_ts", pa.timestamp("us")),
        ("change_seq", pa.string()),
        ("shipment_id", pa.int64()),
        ("parcel_no", pa.int8()),
        ("weight_kg", pa.decimal128(7, 3)),
        ("fragile", pa.bool_()),
        ("shipped_on", pa.date32()),
        ("scanned_at", pa.timestamp("us", tz="UTC")),
        ("carrier_ref", pa.uint64()),
        ("hub", pa.int32()),
    ]
)


def write_parquet(path: Path, schema: pa.Schema, row: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([row], schema=schema), path)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """landing/logistics/parcels (a full load, then CDC with a new column and a wider type)
    and landing/logistics/depots (CSV)."""
    root = tmp_path / "landing"
    parcels = root / "logistics" / "parcels"
    row: dict[str, object] = {
        "commit_ts": datetime(2024, 1, 1),
        "change_seq": None,
        "shipment_id": 1,
        "parcel_no": 1,
        "weight_kg": Decimal("1.250"),
        "fragile": None,
        "shipped_on": date(2024, 1, 1),
        "scanned_at": datetime(2024, 1, 1, 8),
        "carrier_ref": 2**63 + 5,
        "hub": 7,
    }
    write_parquet(parcels / "LOAD00000001.parquet", LOAD_SCHEMA, row)
    cdc = pa.schema(
        [
            ("Op", pa.string()),
            *[f for f in LOAD_SCHEMA if f.name != "hub"],
            ("hub", pa.int64()),
            ("signed_by", pa.string()),
        ]
    )
    write_parquet(
        parcels / "2024" / "01" / "02" / "20240102-000000000.parquet",
        cdc,
        {**row, "Op": "U", "change_seq": "1", "signed_by": "Jo"},
    )
    depots = root / "logistics" / "depots" / "LOAD00000001.csv"
    depots.parent.mkdir(parents=True)
    with depots.open("w", newline="") as handle:
        csv.writer(handle).writerows([["Op", "depot_id", "city"], ["I", "1", "Lille"]])
    return root


def test_landing_files_to_declarations(landing: Path, tmp_path: Path) -> None:
    out = tmp_path / "domain"
    argv = ["infer", "--from", str(landing), "--source", "logistics", "--out", str(out)]
    assert main([*argv, "--primary-key", "parcels=shipment_id,parcel_no"]) == 0
    parcels = declaration(out, "parcels")
    assert parcels["source"] == "logistics"
    assert parcels["primary_key"] == ["shipment_id", "parcel_no"]
    # The DMS columns are recognised, not declared; the files' columns are united, widest type.
    assert column_types(parcels) == {
        "shipment_id": "bigint",
        "parcel_no": "smallint",
        "weight_kg": "decimal(7,3)",
        "fragile": "boolean",
        "shipped_on": "date",
        "scanned_at": "timestamp",
        "carrier_ref": "decimal(20,0)",
        "hub": "bigint",
        "signed_by": "string",
    }
    assert "nullable" not in column(parcels, "shipment_id"), "files do not say"
    assert "incomplete" not in parcels

    depots = declaration(out, "depots")
    assert column_types(depots) == {"depot_id": "string", "city": "string"}
    assert depots["primary_key"] == []
    assert depots["incomplete"] == (
        "no primary key found in the landing files; pass --primary-key depots=COLUMN"
    )
    assert "# infer: CSV has no types" in (out / "tables" / "depots.yaml").read_text()


def test_landing_source_folder_and_bad_input(landing: Path, tmp_path: Path) -> None:
    out = tmp_path / "domain"
    # The source folder itself is accepted too.
    report = infer(str(landing / "logistics"), "logistics", out, {"depots": ("depot_id",)})
    assert {c.table for c in report.of(Kind.NEW_TABLE)} == {"parcels", "depots"}
    assert declaration(out, "depots")["primary_key"] == ["depot_id"]
    with pytest.raises(ValueError, match=r"no landed file of 'depots' has column\(s\) \['zip'\]"):
        infer(str(landing), "logistics", out, {"depots": ("zip",)})
    with pytest.raises(ValueError, match="tables with no landed files: \\['ghost'\\]"):
        infer(str(landing), "logistics", out, {"ghost": ("id",)})
    with pytest.raises(ValueError, match="no folder 'elsewhere'"):
        infer(str(landing), "elsewhere", out)
    broken = landing / "logistics" / "parcels" / "LOAD00000002.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(ValueError, match=f"{broken}: unreadable parquet"):
        infer(str(landing), "logistics", out)
    assert main(["infer", "--from", "oracle://db", "--source", "x", "--out", str(out)]) == 2


def test_primary_key_option_is_checked() -> None:
    with pytest.raises(SystemExit):
        main(["infer", "--source", "x"])
    from medallion.infer.model import parse_primary_keys

    assert parse_primary_keys(["a=x", "b = y, z"]) == {"a": ("x",), "b": ("y", "z")}
    with pytest.raises(ValueError, match="--primary-key 'a': expected TABLE=COLUMN"):
        parse_primary_keys(["a"])


def test_unreachable_database_is_a_clear_error_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"postgresql://reader:s3cret@127.0.0.1:{port}/shop"
    assert main(["infer", "--from", url, "--source", "retail", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"reader:***@127.0.0.1:{port}/shop: cannot read the catalog" in error
    assert "s3cret" not in error
