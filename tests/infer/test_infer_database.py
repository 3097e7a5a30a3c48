"""``medallion infer --from postgresql://…|mysql://…`` against real servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from medallion.cli import main
from medallion.infer.command import infer
from tests.infer.support import column, column_types, declaration, execute

pytestmark = pytest.mark.database

PG_SCHEMA = [
    "CREATE SCHEMA shop",
    """CREATE TABLE shop.order_lines (
        order_id bigint NOT NULL,
        line_no smallint NOT NULL,
        sku varchar(20) NOT NULL,
        quantity integer NOT NULL,
        unit_price numeric(10,2) NOT NULL,
        discount numeric(4,3),
        gift boolean,
        shipped_on date,
        updated_at timestamp NOT NULL,
        paid_at timestamptz,
        weight real,
        score double precision,
        amount numeric,
        pickup_time time,
        attributes jsonb,
        tags text[],
        status_id uuid,
        PRIMARY KEY (order_id, line_no)
    )""",
    "COMMENT ON TABLE shop.order_lines IS 'One line of an order.'",
    "COMMENT ON COLUMN shop.order_lines.discount IS 'Share off the unit price, 0 to 1.'",
    "COMMENT ON COLUMN shop.order_lines.line_no IS 'Position in the order.'",
    "CREATE TABLE shop.events (event_text text, happened_at timestamp)",
]


def test_postgres_catalog_to_declarations(postgres_url: str, tmp_path: Path) -> None:
    execute(postgres_url, *PG_SCHEMA)
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    status = main(["infer", "--from", url, "--source", "shop", "--out", str(tmp_path)])
    assert status == 0
    lines = declaration(tmp_path, "order_lines")
    assert lines["name"] == "order_lines"
    assert lines["source"] == "shop"
    assert lines["description"] == "One line of an order."
    assert lines["primary_key"] == ["order_id", "line_no"]
    assert column_types(lines) == {
        "order_id": "bigint",
        "line_no": "smallint",
        "sku": "string",
        "quantity": "int",
        "unit_price": "decimal(10,2)",
        "discount": "decimal(4,3)",
        "gift": "boolean",
        "shipped_on": "date",
        "updated_at": "timestamp",
        "paid_at": "timestamp",
        "weight": "float",
        "score": "double",
        "amount": "decimal(28,6)",
        "pickup_time": "string",
        "attributes": "string",
        "tags": "string",
        "status_id": "string",
    }
    assert [c["name"] for c in lines["columns"]][:3] == ["order_id", "line_no", "sku"]
    assert column(lines, "discount") == {
        "name": "discount",
        "type": "decimal(4,3)",
        "comment": "Share off the unit price, 0 to 1.",
    }
    assert column(lines, "line_no")["nullable"] is False
    assert "nullable" not in column(lines, "gift")
    assert "incomplete" not in lines
    # Lossy and stand-in mappings are said next to the type, for the person who reads the file.
    text = (tmp_path / "tables" / "order_lines.yaml").read_text()
    assert "type: string  # infer: source type TIME" in text
    assert "type: decimal(28,6)  # infer: source type NUMERIC has no precision" in text

    events = declaration(tmp_path, "events")
    assert events["primary_key"] == []
    assert "--primary-key events=COLUMN" in events["incomplete"]


def test_postgres_primary_key_option_completes_a_keyless_table(
    postgres_url: str, tmp_path: Path
) -> None:
    execute(
        postgres_url,
        "CREATE SCHEMA logs",
        "CREATE TABLE logs.visits (visit_id bigint NOT NULL, page text)",
        'CREATE TABLE logs.page_views ("ViewId" bigint PRIMARY KEY, "Page" text)',
    )
    report = infer(postgres_url, "logs", tmp_path, {"visits": ("visit_id",)})
    visits = declaration(tmp_path, "visits")
    assert visits["primary_key"] == ["visit_id"]
    assert "incomplete" not in visits
    assert not report.conflicts
    # Declarations hold lower snake case names only: such a table is written, but incomplete.
    views = declaration(tmp_path, "page_views")
    assert views["incomplete"] == "column names ['ViewId', 'Page'] are not lower snake case"
    with pytest.raises(ValueError, match=r"--primary-key visits: .* no column\(s\) \['nope'\]"):
        infer(postgres_url, "logs", tmp_path, {"visits": ("nope",)})
    with pytest.raises(ValueError, match=r"no schema .* named 'nowhere'"):
        infer(postgres_url, "nowhere", tmp_path)


MARIADB_SCHEMA = [
    "CREATE DATABASE store",
    """CREATE TABLE store.stock (
        warehouse_id INT UNSIGNED NOT NULL,
        item_id BIGINT UNSIGNED NOT NULL,
        bin_code CHAR(4) NOT NULL COMMENT 'Shelf and bin.',
        on_hand MEDIUMINT NOT NULL,
        reserved TINYINT UNSIGNED,
        small_qty SMALLINT UNSIGNED,
        price DECIMAL(12,4) NOT NULL,
        in_stock BOOLEAN NOT NULL,
        counted_on DATE,
        counted_at DATETIME(6),
        changed_at TIMESTAMP NULL,
        open_from TIME,
        built YEAR,
        state ENUM('open','closed'),
        extra JSON,
        ratio FLOAT,
        total DOUBLE,
        note TEXT,
        PRIMARY KEY (warehouse_id, item_id, bin_code)
    ) COMMENT='Stock per bin.'""",
]


def test_mariadb_catalog_to_declarations(mariadb_url: str, tmp_path: Path) -> None:
    execute(mariadb_url, *MARIADB_SCHEMA)
    url = mariadb_url.replace("mysql+pymysql://", "mariadb://")
    assert main(["infer", "--from", url, "--source", "store", "--out", str(tmp_path)]) == 0
    stock = declaration(tmp_path, "stock")
    assert stock["description"] == "Stock per bin."
    assert stock["primary_key"] == ["warehouse_id", "item_id", "bin_code"]
    assert column_types(stock) == {
        "warehouse_id": "bigint",
        "item_id": "decimal(20,0)",
        "bin_code": "string",
        "on_hand": "int",
        "reserved": "smallint",
        "small_qty": "int",
        "price": "decimal(12,4)",
        "in_stock": "boolean",
        "counted_on": "date",
        "counted_at": "timestamp",
        "changed_at": "timestamp",
        "open_from": "string",
        "built": "int",
        "state": "string",
        "extra": "string",
        "ratio": "float",
        "total": "double",
        "note": "string",
    }
    assert column(stock, "bin_code")["comment"] == "Shelf and bin."
    assert column(stock, "in_stock")["nullable"] is False
    assert "nullable" not in column(stock, "counted_on")
    text = (tmp_path / "tables" / "stock.yaml").read_text()
    assert "type: decimal(20,0)  # infer: unsigned BIGINT" in text
    # The same server through the mysql:// scheme gives the same declaration.
    again = tmp_path / "again"
    mysql = mariadb_url.replace("mysql+pymysql://", "mysql://")
    assert main(["infer", "--from", mysql, "--source", "store", "--out", str(again)]) == 0
    assert declaration(again, "stock") == stock
