"""An independent reference for the gold marts: plain Python, ``decimal`` and ``fractions``.

Written from the definitions in docs/demo.md#gold-marts, not from the SQL of the models. Inputs
are silver tables as lists of dicts (declared columns; extra keys are ignored); each mart returns
its rows as tuples in the declared column order, sorted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

Row = dict[str, Any]
CENT = Decimal("0.01")


def half_up(value: Decimal | Fraction) -> Decimal:
    """Round to 2 decimals, halves away from zero (SQL ``round`` on decimals)."""
    if isinstance(value, Fraction):
        sign = -1 if value < 0 else 1
        cents = (abs(value) * 100 * 2 + 1) // 2  # floor(|x| * 100 + 1/2)
        return (Decimal(sign * cents) / 100).quantize(CENT)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def gross(item: Row) -> Decimal | None:
    if item["quantity"] is None or item["unit_price"] is None:
        return None
    return Decimal(item["quantity"]) * item["unit_price"]


def net(item: Row) -> Decimal | None:
    amount = gross(item)
    discount = item["discount"] if item["discount"] is not None else Decimal(0)
    return None if amount is None else amount * (Decimal(1) - discount)


def sql_sum(values: Iterable[Any]) -> Any:
    """SQL ``sum``: NULLs ignored, NULL when nothing is left."""
    present = [v for v in values if v is not None]
    return sum(present[1:], present[0]) if present else None


def first_of_month(day: date | None) -> date | None:
    return None if day is None else day.replace(day=1)


def day_of(ts: datetime | None) -> date | None:
    return None if ts is None else ts.date()


def completed_sales(sales: list[Row]) -> list[Row]:
    return [s for s in sales if s["status"] == "completed"]


def items_by_sale(items: list[Row]) -> dict[Any, list[Row]]:
    grouped: dict[Any, list[Row]] = defaultdict(list)
    for item in items:
        if item["sale_id"] is not None:
            grouped[item["sale_id"]].append(item)
    return grouped


def sale_net(items: list[Row]) -> Decimal | None:
    return sql_sum(net(i) for i in items)


def sales_daily(sales: list[Row], sales_items: list[Row], products: list[Row]) -> list[tuple]:
    category = {p["product_id"]: p["category"] for p in products}
    by_sale = items_by_sale(sales_items)
    groups: dict[tuple, list[tuple[Any, Row]]] = defaultdict(list)
    for sale in completed_sales(sales):
        for item in by_sale.get(sale["sale_id"], []):
            key = (day_of(sale["sale_ts"]), category.get(item["product_id"]))
            groups[key].append((sale["sale_id"], item))
    rows = []
    for (day, cat), members in groups.items():
        items = [item for _, item in members]
        gross_total = sql_sum(gross(i) for i in items)
        net_total = sql_sum(net(i) for i in items)
        rows.append(
            (
                day,
                cat,
                len({sale_id for sale_id, _ in members}),
                sql_sum(i["quantity"] for i in items),
                None if gross_total is None else half_up(gross_total),
                None if net_total is None else half_up(net_total),
                first_of_month(day),
            )
        )
    return _sorted(rows)


def sales_person_monthly(
    sales: list[Row], sales_items: list[Row], sales_people: list[Row]
) -> list[tuple]:
    people = {p["sales_person_id"]: p for p in sales_people}
    by_sale = items_by_sale(sales_items)
    groups: dict[tuple, list[Decimal]] = defaultdict(list)
    for sale in completed_sales(sales):
        key = (first_of_month(day_of(sale["sale_ts"])), sale["sales_person_id"])
        total = sale_net(by_sale.get(sale["sale_id"], []))
        groups[key].append(total if total is not None else Decimal(0))
    partial = []
    for (month, person_id), nets in groups.items():
        person = people.get(person_id, {})
        exact = sum(nets, Decimal(0))
        partial.append(
            [
                month,
                person_id,
                person.get("name"),
                person.get("region"),
                len(nets),
                half_up(exact),
                half_up(Fraction(exact) / len(nets)),
            ]
        )
    rows = []
    for row in partial:
        peers = [p for p in partial if (p[0], p[3]) == (row[0], row[3])]
        rank = 1 + sum(1 for p in peers if p[5] > row[5])
        rows.append((*row, rank))
    return _sorted(rows)


def customer_value(
    clients: list[Row], client_addresses: list[Row], sales: list[Row], sales_items: list[Row]
) -> list[tuple]:
    primary: dict[Any, Row] = {}
    for address in client_addresses:
        if address["is_primary"] is True and address["client_id"] is not None:
            held = primary.get(address["client_id"])
            if held is None or address["address_id"] < held["address_id"]:
                primary[address["client_id"]] = address
    by_sale = items_by_sale(sales_items)
    orders: dict[Any, list[Row]] = defaultdict(list)
    for sale in completed_sales(sales):
        orders[sale["client_id"]].append(sale)
    rows = []
    for client in clients:
        mine = orders.get(client["client_id"], [])
        times = [s["sale_ts"] for s in mine if s["sale_ts"] is not None]
        nets = [sale_net(by_sale.get(s["sale_id"], [])) for s in mine]
        address = primary.get(client["client_id"])
        rows.append(
            (
                client["client_id"],
                client["name"],
                None if address is None else address["state"],
                min(times) if times else None,
                max(times) if times else None,
                len(mine),
                half_up(sum((n for n in nets if n is not None), Decimal(0))),
            )
        )
    return _sorted(rows)


def avg_salary_by_age(employees: list[Row]) -> list[tuple]:
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for employee in employees:
        day = employee["reference_date"]
        key = (
            employee["age"],
            employee["active"],
            None if day is None else day.year,
            None if day is None else day.month,
        )
        groups[key].append(employee)
    rows = []
    for (age, active, year, month), members in groups.items():
        salaries = [m["salary"] for m in members if m["salary"] is not None]
        average = half_up(Fraction(sum(salaries, Decimal(0))) / len(salaries)) if salaries else None
        rows.append((age, active, average, len(members), year, month))
    return _sorted(rows)


MARTS = {
    "sales_daily": (sales_daily, ("sales", "sales_items", "products")),
    "sales_person_monthly": (sales_person_monthly, ("sales", "sales_items", "sales_people")),
    "customer_value": (customer_value, ("clients", "client_addresses", "sales", "sales_items")),
    "avg_salary_by_age": (avg_salary_by_age, ("employees",)),
}


def mart(name: str, silver: dict[str, list[Row]]) -> list[tuple]:
    """The rows of mart ``name`` computed from ``silver`` (table name -> rows)."""
    function, sources = MARTS[name]
    return function(*(silver[s] for s in sources))


def _sorted(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=sort_key)


def sort_key(row: tuple) -> tuple:
    """Orders rows holding NULLs (None sorts first) and mixed types."""
    return tuple((value is not None, value if value is not None else 0) for value in row)
