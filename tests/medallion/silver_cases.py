"""The silver scenario's table and changes: a full load, a CDC batch full of anomalies, a late
batch. Shared by the silver and quality tests (data only, no tests here)."""

from __future__ import annotations

from typing import Any

from medallion.spec import Column, Domain, Rule, RuleAction, Table
from tests.medallion.silver_support import cdc

ITEMS = Table(
    name="items",
    source="shop",
    primary_key=("item_id",),
    columns=(
        Column("item_id", "bigint"),
        Column("name"),
        Column("qty", "int"),
        Column("price", "decimal(10,2)"),
    ),
    rules=(
        Rule("qty_positive", "qty > 0"),
        Rule("price_known", "price IS NOT NULL", RuleAction.WARN),
    ),
)
DOMAIN = Domain(tables=(ITEMS,))
LOAD = "LOAD00000001.csv"
DAY2 = "2024/01/02/20240102-100000000.csv"
DAY2_AGAIN = "2024/01/02/20240102-110000000.csv"
LATE = "2024/01/01/20240101-230000000.csv"


def item(key: int | None, name: str | None = None, qty: Any = 1, price: Any = "1.50") -> dict:
    return {"item_id": key, "name": name or f"n{key}", "qty": qty, "price": price}


FULL_LOAD = [cdc(None, None, LOAD, i - 1, **item(i, qty=i)) for i in range(1, 9)]
CDC = [
    cdc("U", 11, DAY2, 0, **item(1, "b")),  # key 1 changed twice; the later change comes first
    cdc("U", 10, DAY2, 1, **item(1, "a")),
    cdc("D", 12, DAY2, 2, item_id=2),
    cdc("D", 13, DAY2, 3, item_id=3),  # key 3 deleted, then inserted again in the same batch
    cdc("I", 14, DAY2, 4, **item(3, "again")),
    cdc("U", 15, DAY2, 5, **item(4, "bad", qty="abc")),  # uncastable
    cdc("I", 16, DAY2, 6, **item(None, "nokey")),  # null key
    cdc("U", 17, DAY2, 7, **item(5, "zero", qty=0)),  # rule qty_positive (quarantine)
    cdc("U", 18, DAY2, 8, **item(6, "noprice", price=None)),  # rule price_known (warn)
    cdc("D", 19, DAY2, 9, item_id=7, qty="zz"),  # a delete needs only its key
    cdc("X", 20, DAY2, 10, **item(9)),  # unknown operation
    cdc("I", 21, DAY2, 11, **item(10, "dup")),
    cdc("I", 21, DAY2_AGAIN, 0, **item(10, "dup")),  # the same change delivered twice
]
LATE_CHANGES = [
    cdc("U", 5, LATE, 0, **item(1, "old")),  # older than what silver holds
    cdc("U", 9, LATE, 1, **item(2, "zombie")),  # older than the delete of key 2
    cdc("I", 30, LATE, 2, **item(7, "back")),  # newer re-insert after a delete
    cdc("U", 31, LATE, 3, **item(8, qty=80)),
]
ALL_CHANGES = [*FULL_LOAD, *CDC, *LATE_CHANGES]

STRICT = Table(
    name="strict_items",
    source="shop",
    primary_key=("item_id",),
    columns=ITEMS.columns,
    rules=(Rule("name_not_blocked", "name IS NULL OR name <> 'boom'", RuleAction.FAIL),),
)
