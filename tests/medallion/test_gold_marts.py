"""Each demo mart (a SQL model of domain/models) against hand-computed rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pytest
from pyspark.sql import SparkSession

from medallion.gold import run_model
from tests.demo import load_demo
from tests.medallion.gold_support import frame, rows_of
from tests.reference import gold_reference as reference

pytestmark = pytest.mark.spark

JAN1, JAN2, FEB1 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 2, 1)


def compute(spark: SparkSession, name: str, silver: dict[str, list[dict]]) -> list[tuple]:
    """The mart's rows from in-memory silver tables, checked against the declared schema."""
    demo = load_demo()
    model = demo.gold_model(name)
    inputs = {s: frame(spark, s, silver.get(s, [])) for s in model.sources}
    result = run_model(name, domain=demo, **inputs)
    declared = [(c.name, c.type) for c in model.columns]
    assert [(f.name, f.dataType.simpleString()) for f in result.schema] == declared
    return rows_of(result)


def ordered(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=reference.sort_key)


def sale(sale_id: int, ts: datetime | None, status: str = "completed", **values: object) -> dict:
    return {"sale_id": sale_id, "sale_ts": ts, "status": status, **values}


def item(item_id: int, sale_id: int, quantity: int, price: str, discount: str | None, **v: object):
    return {
        "sale_item_id": item_id,
        "sale_id": sale_id,
        "quantity": quantity,
        "unit_price": D(price),
        "discount": None if discount is None else D(discount),
        **v,
    }


def test_sales_daily(spark: SparkSession) -> None:
    silver = {
        "products": [
            {"product_id": 1, "category": "books"},
            {"product_id": 2, "category": "games"},
        ],
        "sales": [
            sale(1, datetime(2024, 1, 1, 10, 0)),
            sale(2, datetime(2024, 1, 1, 23, 59, 59)),
            sale(3, datetime(2024, 1, 1, 12, 0), status="cancelled"),
            sale(4, datetime(2024, 1, 2, 9, 0)),  # completed, no items: absent
            sale(5, datetime(2024, 1, 2, 0, 0)),
            sale(6, datetime(2024, 2, 1, 0, 0)),
        ],
        "sales_items": [
            # two nets of 0.125 each: 0.25 when rounded at the end, 0.26 if per item
            item(1, 1, 1, "0.25", "0.500", product_id=1),
            item(2, 2, 1, "0.25", "0.500", product_id=1),
            item(3, 1, 1, "0.00", "0", product_id=1),  # same sale, same category again
            item(4, 1, 3, "1.15", "0.100", product_id=2),  # net 3.105 -> 3.11 (HALF_UP)
            item(5, 1, 2, "5.00", None, product_id=9),  # product missing -> category NULL
            item(6, 3, 10, "1.00", "0", product_id=1),  # cancelled sale
            item(7, 5, 1, "2.00", "0", product_id=1),
            item(8, 99, 1, "2.00", "0", product_id=1),  # sale missing
            item(9, 6, 1, "1.00", "0", product_id=2),
        ],
    }
    assert compute(spark, "sales_daily", silver) == ordered(
        [
            (JAN1, None, 1, 2, D("10.00"), D("10.00"), JAN1),
            (JAN1, "books", 2, 3, D("0.50"), D("0.25"), JAN1),
            (JAN1, "games", 1, 3, D("3.45"), D("3.11"), JAN1),
            (JAN2, "books", 1, 1, D("2.00"), D("2.00"), JAN1),
            (FEB1, "games", 1, 1, D("1.00"), D("1.00"), FEB1),
        ]
    )


def test_sales_person_monthly(spark: SparkSession) -> None:
    jan, feb = datetime(2024, 1, 15, 12), datetime(2024, 2, 3, 8)
    silver = {
        "sales_people": [
            {"sales_person_id": 1, "name": "Ann", "region": "north"},
            {"sales_person_id": 2, "name": "Bob", "region": "north"},
            {"sales_person_id": 3, "name": "Cy", "region": "south"},
            {"sales_person_id": 5, "name": "Dee", "region": "north"},
        ],
        "sales": [
            sale(1, jan, sales_person_id=1),
            sale(2, jan, sales_person_id=2),
            sale(3, jan, sales_person_id=2),
            sale(4, jan, sales_person_id=3),  # no items: one order, 0.00
            sale(5, jan, sales_person_id=4),  # person missing: name, region NULL
            sale(6, jan, sales_person_id=4),
            sale(7, jan, status="cancelled", sales_person_id=1),
            sale(8, feb, sales_person_id=1),
            sale(9, jan, sales_person_id=5),
        ],
        "sales_items": [
            item(1, 1, 1, "100.00", "0"),
            item(2, 2, 2, "30.00", "0"),
            item(3, 3, 1, "40.00", "0"),  # Bob 60 + 40 = Ann's 100: a tie
            item(4, 5, 1, "0.01", "0.5"),  # 0.005 + 0.005: 0.01, average 0.005 -> 0.01
            item(5, 6, 1, "0.01", "0.5"),
            item(6, 7, 1, "999.00", "0"),
            item(7, 8, 1, "5.00", "0"),
            item(8, 9, 1, "20.00", "0"),
        ],
    }
    month1, month2 = JAN1, FEB1
    assert compute(spark, "sales_person_monthly", silver) == ordered(
        [
            (month1, 1, "Ann", "north", 1, D("100.00"), D("100.00"), 1),
            (month1, 2, "Bob", "north", 2, D("100.00"), D("50.00"), 1),
            (month1, 3, "Cy", "south", 1, D("0.00"), D("0.00"), 1),
            (month1, 4, None, None, 2, D("0.01"), D("0.01"), 1),
            (month1, 5, "Dee", "north", 1, D("20.00"), D("20.00"), 3),
            (month2, 1, "Ann", "north", 1, D("5.00"), D("5.00"), 1),
        ]
    )


def test_customer_value(spark: SparkSession) -> None:
    first, last = datetime(2024, 1, 5, 9, 30), datetime(2024, 3, 1, 0, 0)
    silver = {
        "clients": [
            {"client_id": 1, "name": "Ann"},
            {"client_id": 2, "name": "Bob"},  # no orders
            {"client_id": 3, "name": None},  # only a cancelled sale
        ],
        "client_addresses": [
            {"address_id": 1, "client_id": 1, "state": "CA", "is_primary": False},
            {"address_id": 2, "client_id": 1, "state": "NY", "is_primary": True},
            {"address_id": 3, "client_id": 1, "state": "TX", "is_primary": True},
            {"address_id": 4, "client_id": 2, "state": None, "is_primary": True},
            {"address_id": 5, "client_id": 3, "state": "WA", "is_primary": None},
            {"address_id": 6, "client_id": 9, "state": "OR", "is_primary": True},
        ],
        "sales": [
            sale(1, first, client_id=1),
            sale(2, last, client_id=1),  # no items
            sale(3, datetime(2025, 1, 1), status="cancelled", client_id=1),
            sale(4, first, status="cancelled", client_id=3),
            sale(5, first, client_id=9),  # client missing
        ],
        "sales_items": [
            item(1, 1, 1, "0.25", "0.5"),  # 0.125 -> 0.13
            item(2, 3, 1, "50.00", "0"),
            item(3, 5, 1, "50.00", "0"),
        ],
    }
    assert compute(spark, "customer_value", silver) == ordered(
        [
            (1, "Ann", "NY", first, last, 2, D("0.13")),
            (2, "Bob", None, None, None, 0, D("0.00")),
            (3, None, None, None, None, 0, D("0.00")),
        ]
    )


def test_avg_salary_by_age(spark: SparkSession) -> None:
    def employee(i: int, age: int, active: bool | None, salary: str | None, day: date | None):
        return {
            "employee_id": i,
            "age": age,
            "active": active,
            "salary": None if salary is None else D(salary),
            "reference_date": day,
        }

    silver = {
        "employees": [
            employee(1, 30, True, "1000.00", date(2024, 1, 15)),
            employee(2, 30, True, "1000.01", date(2024, 1, 20)),  # mean 1000.005 -> 1000.01
            employee(3, 30, True, None, date(2024, 1, 3)),  # counted, not averaged
            employee(4, 30, False, "500.00", date(2024, 1, 10)),
            employee(5, 30, True, "10.00", date(2024, 2, 1)),
            employee(6, 30, True, "1.00", date(2025, 1, 15)),
            employee(7, 40, None, None, None),
        ]
    }
    assert compute(spark, "avg_salary_by_age", silver) == ordered(
        [
            (30, False, D("500.00"), 1, 2024, 1),
            (30, True, D("1000.01"), 3, 2024, 1),
            (30, True, D("10.00"), 1, 2024, 2),
            (30, True, D("1.00"), 1, 2025, 1),
            (40, None, None, 1, None, None),
        ]
    )
