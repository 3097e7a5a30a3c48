"""The MERGE's key-range bound: a literal only where it is exact."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from medallion.silver.clustering import key_range, sql_literal
from tests.medallion.silver_cases import ITEMS


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        (42, "42"),
        (Decimal("12.50"), "12.50BD"),
        ("O'Brien \\ co", "'O\\'Brien \\\\ co'"),
        (date(2024, 2, 29), "DATE '2024-02-29'"),
    ],
)
def test_keys_of_exact_types_become_literals(value: Any, literal: str) -> None:
    assert sql_literal(value) == literal


@pytest.mark.parametrize(
    "value", [None, True, 1.5, Decimal("NaN"), datetime(2024, 1, 1, 12), b"\x00"]
)
def test_other_keys_leave_the_merge_unbounded(value: Any) -> None:
    assert sql_literal(value) is None
    assert key_range(ITEMS, 1, value) is None


def test_the_bound_names_the_clustering_column() -> None:
    assert key_range(ITEMS, 3, 17) == "t.`item_id` BETWEEN 3 AND 17"
