"""The demo source tables (docs/demo.md#tables): their rows, how they change and how to break
their rules (docs/demo.md#quality-rules).

Sizes at scale 1: 50k clients (~1.2 addresses each), 200 sales people, 2k products, 300k sales
over the two years before the load with ~1M items, 20k employees. Foreign keys always point at
live rows: a parent still referenced is never deleted, a deleted sale takes its items along and
a deleted client its addresses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from medallion.generate import clock
from medallion.generate import values as V
from medallion.generate.engine import Cols, Simulation, TableSim, owner_times
from medallion.generate.values import Arr

_ITEMS_PER_SALE = np.arange(1, 7)
_ITEMS_PER_SALE_P = np.array([0.12, 0.18, 0.25, 0.20, 0.15, 0.10])
_DISCOUNTS = np.array([50, 100, 150, 200, 250])  # thousandths
_FIRST_LOWER = V.lower(V.FIRST_NAMES)
_LAST_LOWER = V.lower(V.LAST_NAMES)


def _date(times: Arr) -> Arr:
    return (times // clock.DAY).astype(np.int32)


def _person(rng: np.random.Generator, count: int, domains: Arr) -> tuple[Arr, Arr]:
    """Names and email addresses built from them."""
    first = rng.integers(0, len(V.FIRST_NAMES), size=count)
    last = rng.integers(0, len(V.LAST_NAMES), size=count)
    email = V.join(
        _FIRST_LOWER[first],
        ".",
        _LAST_LOWER[last],
        V.digits(rng, count, 4),
        "@",
        V.pick(rng, domains, count),
    )
    return V.join(V.FIRST_NAMES[first], " ", V.LAST_NAMES[last]), email


def _phone(rng: np.random.Generator, count: int) -> Arr:
    return V.join("+1-", V.digits(rng, count, 3), "-555-", V.digits(rng, count, 4))


def _flip(rng: np.random.Generator, values: Arr, ratio: float) -> Arr:
    return np.where(rng.random(len(values)) < ratio, ~values, values)


def _active_products(sim: Simulation, rng: np.random.Generator) -> Callable[[int], Arr]:
    active = sim.state[Products.name].cols["active"]
    return lambda count: sim.pick_parent(Products.name, count, rng, where=active)


def _reserve(rng: np.random.Generator, size: int, count: int) -> Arr:
    """A mask of ``count`` rows the full load leaves unreferenced (so CDC may delete them)."""
    mask = np.zeros(size, dtype=bool)
    mask[rng.choice(size, size=min(count, size), replace=False)] = True
    return mask


class Clients(TableSim):
    name = "clients"
    source = "retail"
    key = "client_id"
    columns: ClassVar[dict[str, str]] = {
        "client_id": "id",
        "name": "str",
        "email": "str",
        "phone": "str",
        "birth_date": "date",
        "created_at": "ts",
        "updated_at": "ts",
    }
    violations: ClassVar[dict[str, tuple[str, Any]]] = {
        "email_is_address": ("email", "not-an-email")
    }
    uncastable = ("birth_date", "not-a-date")
    base_rows, min_rows = 50_000, 60
    rates, floors = (0.004, 0.006, 0.001), (3, 3, 1)

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        count = self.size(sim.scale)
        name, email = _person(rng, count, V.EMAIL_DOMAINS)
        early = rng.random(count) < 0.6
        created = np.where(
            early,
            V.uniform_between(rng, clock.micros("2018-01-01"), clock.HISTORY_START, count),
            V.uniform_between(rng, clock.HISTORY_START, clock.LOAD_AT - 30 * clock.DAY, count),
        )
        self.reserved = _reserve(rng, count, max(6, round(0.03 * count)))  # no sale yet
        birth = V.uniform_between(rng, clock.days("1945-01-01"), clock.days("2006-12-31"), count)
        return {
            self.name: {
                "name": name,
                "email": email,
                "phone": V.with_nulls(rng, _phone(rng, count), 0.05),
                "birth_date": birth.astype(np.int32),
                "created_at": created,
                "updated_at": V.uniform_between(rng, created, clock.LOAD_AT, count),
            }
        }

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        count = len(times)
        name, email = _person(rng, count, V.EMAIL_DOMAINS)
        birth = V.uniform_between(rng, clock.days("1950-01-01"), clock.days("2006-12-31"), count)
        return {
            "name": name,
            "email": email,
            "phone": _phone(rng, count),
            "birth_date": birth.astype(np.int32),
            "created_at": times.copy(),
            "updated_at": times.copy(),
        }

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        count = len(keys)
        new_phone = rng.random(count) < 0.5
        _, email = _person(rng, count, V.EMAIL_DOMAINS)
        rows["phone"] = np.where(new_phone, _phone(rng, count), rows["phone"])
        rows["email"] = np.where(new_phone, rows["email"], email)
        rows["updated_at"] = times.copy()
        return rows

    def after_insert(
        self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator
    ) -> None:
        addresses = ClientAddresses.locations(rng, len(keys))
        addresses["client_id"] = keys.copy()
        addresses["is_primary"] = np.ones(len(keys), dtype=bool)
        sim.insert(ClientAddresses.name, times + 1, rng, cols=addresses)

    def before_delete(
        self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator
    ) -> None:
        addresses = sim.state[ClientAddresses.name]
        owner = addresses.cols["client_id"]
        rows = np.nonzero(addresses.live & np.isin(owner, keys))[0]
        if len(rows):
            when = owner_times(keys, times, owner[rows]) - 1
            sim.delete(ClientAddresses.name, rows + 1, when, rng)


class ClientAddresses(TableSim):
    name = "client_addresses"
    source = "retail"
    key = "address_id"
    columns: ClassVar[dict[str, str]] = {
        "address_id": "id",
        "client_id": "id",
        "street": "str",
        "city": "str",
        "state": "str",
        "zip_code": "str",
        "country": "str",
        "is_primary": "bool",
    }
    uncastable = ("is_primary", "maybe")
    rates, floors = (0.001, 0.003, 0.0005), (3, 2, 1)
    hook_rate = 0.0033  # a primary address per new client

    @staticmethod
    def locations(rng: np.random.Generator, count: int) -> Cols:
        city = rng.integers(0, len(V.CITIES), size=count)
        number = rng.integers(1, 9999, size=count).astype(str).astype(object)
        return {
            "street": V.join(number, " ", V.pick(rng, V.STREETS, count)),
            "city": V.CITIES[city, 0],
            "state": V.CITIES[city, 1],
            "zip_code": V.digits(rng, count, 5),
            "country": np.full(count, "US", dtype=object),
        }

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        clients = sim.state[Clients.name].size
        per_client = 1 + (rng.random(clients) < 0.2)
        owner = np.repeat(np.arange(1, clients + 1, dtype=np.int64), per_client)
        first = np.concatenate([[True], owner[1:] != owner[:-1]])
        return {
            self.name: {"client_id": owner, **self.locations(rng, len(owner)), "is_primary": first}
        }

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        count = len(times)
        return {
            "client_id": sim.pick_parent(Clients.name, count, rng),
            **self.locations(rng, count),
            "is_primary": np.zeros(count, dtype=bool),
        }

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        rows.update(self.locations(rng, len(keys)))  # the client moved
        return rows

    def deletable(self, sim: Simulation) -> Arr:
        return ~sim.state[self.name].cols["is_primary"]


class SalesPeople(TableSim):
    name = "sales_people"
    source = "retail"
    key = "sales_person_id"
    columns: ClassVar[dict[str, str]] = {
        "sales_person_id": "id",
        "name": "str",
        "email": "str",
        "region": "str",
        "hire_date": "date",
        "active": "bool",
    }
    uncastable = ("hire_date", "soon")
    base_rows, min_rows = 200, 12
    rates, floors = (0.005, 0.01, 0.002), (3, 2, 1)
    _domain = np.array(["retail.example"], dtype=object)

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        count = self.size(sim.scale)
        self.reserved = _reserve(rng, count, max(5, round(0.08 * count)))  # recent hires
        name, email = _person(rng, count, self._domain)
        hired = np.where(
            self.reserved,
            V.uniform_between(rng, clock.days("2024-01-01"), clock.days("2024-12-01"), count),
            V.uniform_between(rng, clock.days("2012-01-01"), clock.days("2022-12-01"), count),
        )
        return {
            self.name: {
                "name": name,
                "email": email,
                "region": V.pick(rng, V.REGIONS, count),
                "hire_date": hired.astype(np.int32),
                "active": self.reserved | (rng.random(count) < 0.92),
            }
        }

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        count = len(times)
        name, email = _person(rng, count, self._domain)
        return {
            "name": name,
            "email": email,
            "region": V.pick(rng, V.REGIONS, count),
            "hire_date": _date(times),
            "active": np.ones(count, dtype=bool),
        }

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        count = len(keys)
        moves = rng.random(count) < 0.7
        rows["region"] = np.where(moves, V.pick(rng, V.REGIONS, count), rows["region"])
        rows["active"] = np.where(moves, rows["active"], ~rows["active"])
        return rows


class Products(TableSim):
    name = "products"
    source = "retail"
    key = "product_id"
    columns: ClassVar[dict[str, str]] = {
        "product_id": "id",
        "name": "str",
        "category": "str",
        "unit_price": "dec2",
        "active": "bool",
    }
    violations: ClassVar[dict[str, tuple[str, Any]]] = {"unit_price_positive": ("unit_price", 0)}
    uncastable = ("unit_price", "n/a")
    base_rows, min_rows = 2_000, 30
    rates, floors = (0.003, 0.01, 0.001), (3, 20, 1)  # enough rows to hide one bad row

    @staticmethod
    def _catalog(rng: np.random.Generator, count: int) -> Cols:
        noun = rng.integers(0, len(V.PRODUCT_NOUNS), size=count)
        name = V.join(
            V.pick(rng, V.PRODUCT_WORDS, count),
            " ",
            V.PRODUCT_NOUNS[noun],
            " ",
            V.digits(rng, count, 3),
        )
        cents = np.exp(rng.uniform(np.log(199), np.log(49_999), size=count))
        return {
            "name": name,
            "category": V.CATEGORIES[noun % len(V.CATEGORIES)],
            "unit_price": cents.astype(np.int64),
        }

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        count = self.size(sim.scale)
        self.reserved = _reserve(rng, count, max(6, round(0.04 * count)))  # not sold yet
        return {self.name: {**self._catalog(rng, count), "active": rng.random(count) < 0.95}}

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        return {**self._catalog(rng, len(times)), "active": np.ones(len(times), dtype=bool)}

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        count = len(keys)
        reprice = rng.random(count) < 0.7
        price = np.maximum(1, (rows["unit_price"] * rng.uniform(0.9, 1.15, count)).astype(np.int64))
        rows["unit_price"] = np.where(reprice, price, rows["unit_price"])
        rows["active"] = np.where(reprice, rows["active"], ~rows["active"])
        return rows


class Sales(TableSim):
    name = "sales"
    source = "retail"
    key = "sale_id"
    columns: ClassVar[dict[str, str]] = {
        "sale_id": "id",
        "client_id": "id",
        "sales_person_id": "id",
        "sale_ts": "ts",
        "status": "str",
        "total_amount": "dec2",
    }
    parents: ClassVar[dict[str, str]] = {
        "client_id": Clients.name,
        "sales_person_id": SalesPeople.name,
    }
    extra = ("channel", 2)
    violations: ClassVar[dict[str, tuple[str, Any]]] = {
        "status_known": ("status", "shipped"),
        "total_amount_not_negative": ("total_amount", -1250),
    }
    uncastable = ("sale_ts", "not-a-time")
    base_rows, min_rows = 300_000, 300
    rates, floors = (0.008, 0.004, 0.0002), (4, 3, 1)

    def __init__(self) -> None:
        self._items: tuple[Cols, Arr] | None = None  # items of the rows new_rows just made

    @staticmethod
    def lines(
        sim: Simulation, rng: np.random.Generator, sales: int, products: Callable[[int], Arr]
    ) -> tuple[Cols, Arr, Arr]:
        """Items of ``sales`` new sales: columns (no sale_id), items per sale, sale totals."""
        counts = rng.choice(_ITEMS_PER_SALE, size=sales, p=_ITEMS_PER_SALE_P)
        lines = int(counts.sum())
        product = products(lines)
        quantity = np.minimum(rng.geometric(0.55, size=lines), 9).astype(np.int32)
        price = sim.state[Products.name].cols["unit_price"][product - 1]
        discount = np.where(rng.random(lines) < 0.7, 0, rng.choice(_DISCOUNTS, size=lines))
        units = quantity * price * (1000 - discount)  # in 1e-5 currency units
        totals = np.bincount(np.repeat(np.arange(sales), counts), weights=units, minlength=sales)
        cols = {
            "product_id": product,
            "quantity": quantity,
            "unit_price": price,
            "discount": discount.astype(np.int64),
        }
        return cols, counts, (totals.astype(np.int64) + 500) // 1000  # cents, half up

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        count = self.size(sim.scale)
        clients = np.nonzero(~sim.tables[Clients.name].reserved)[0] + 1
        people = np.nonzero(~sim.tables[SalesPeople.name].reserved)[0] + 1
        loyalty = rng.gamma(1.0, size=len(clients))
        client = rng.choice(clients, size=count, p=loyalty / loyalty.sum())
        drive = rng.gamma(2.0, size=len(people))
        person = rng.choice(people, size=count, p=drive / drive.sum())
        created = sim.state[Clients.name].cols["created_at"][client - 1]
        earliest = np.maximum(created, clock.HISTORY_START)
        sale_ts = V.uniform_between(rng, earliest, clock.LOAD_AT, count)
        order = np.argsort(sale_ts, kind="stable")  # ids grow with time, as auto-increments do
        client, person, sale_ts = client[order], person[order], sale_ts[order]
        recent = sale_ts > clock.LOAD_AT - 7 * clock.DAY
        status = np.where(
            recent,
            V.pick(rng, V.STATUSES, count, p=np.array([0.35, 0.05, 0.60])),
            V.pick(rng, V.STATUSES, count, p=np.array([0.94, 0.06, 0.0])),
        )
        sold = np.nonzero(~sim.tables[Products.name].reserved)[0] + 1
        popularity = rng.gamma(0.7, size=len(sold))
        popularity /= popularity.sum()
        items, counts, totals = self.lines(
            sim, rng, count, lambda lines: rng.choice(sold, size=lines, p=popularity)
        )
        items["sale_id"] = np.repeat(np.arange(1, count + 1, dtype=np.int64), counts)
        sales = {
            "client_id": client,
            "sales_person_id": person,
            "sale_ts": sale_ts,
            "status": status,
            "total_amount": totals,
            "channel": V.pick(rng, V.CHANNELS, count, p=np.array([0.6, 0.3, 0.1])),
        }
        return {self.name: sales, SalesItems.name: items}

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        count = len(times)
        active = sim.state[SalesPeople.name].cols["active"]
        items, counts, totals = self.lines(sim, rng, count, _active_products(sim, rng))
        self._items = (items, counts)
        return {
            "client_id": sim.pick_parent(Clients.name, count, rng),
            "sales_person_id": sim.pick_parent(SalesPeople.name, count, rng, where=active),
            "sale_ts": times.copy(),
            "status": V.pick(rng, V.STATUSES, count, p=np.array([0.45, 0.05, 0.50])),
            "total_amount": totals,
            "channel": V.pick(rng, V.CHANNELS, count, p=np.array([0.6, 0.3, 0.1])),
        }

    def after_insert(
        self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator
    ) -> None:
        assert self._items is not None, "new_rows precedes after_insert"
        items, counts = self._items
        self._items = None
        position = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        items["sale_id"] = np.repeat(keys, counts)
        sim.insert(SalesItems.name, np.repeat(times, counts) + position + 1, rng, cols=items)

    def before_delete(
        self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator
    ) -> None:
        items = sim.state[SalesItems.name]
        owner = items.cols["sale_id"]
        rows = np.nonzero(items.live & np.isin(owner, keys))[0]
        if len(rows):
            when = owner_times(keys, times, owner[rows]) - 1 - np.arange(len(rows))
            sim.delete(SalesItems.name, rows + 1, when, rng)

    def deletable(self, sim: Simulation) -> Arr:
        return np.ones(sim.state[self.name].size, dtype=bool)  # items cascade

    def pick_updates(
        self, sim: Simulation, candidates: Arr, count: int, rng: np.random.Generator
    ) -> Arr:
        """Mostly pending sales getting completed or cancelled."""
        pending = sim.state[self.name].cols["status"][candidates - 1] == "pending"
        first = rng.permutation(candidates[pending])
        rest = rng.permutation(candidates[~pending])
        return np.concatenate([first, rest])[:count]

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        status = rows["status"]
        settled = np.where(rng.random(len(keys)) < 0.85, "completed", "cancelled")
        flipped = np.where(status == "completed", "cancelled", "completed")
        rows["status"] = np.where(status == "pending", settled, flipped).astype(object)
        return rows


class SalesItems(TableSim):
    name = "sales_items"
    source = "retail"
    key = "sale_item_id"
    columns: ClassVar[dict[str, str]] = {
        "sale_item_id": "id",
        "sale_id": "id",
        "product_id": "id",
        "quantity": "int",
        "unit_price": "dec2",
        "discount": "dec3",
    }
    parents: ClassVar[dict[str, str]] = {"sale_id": Sales.name, "product_id": Products.name}
    violations: ClassVar[dict[str, tuple[str, Any]]] = {
        "quantity_positive": ("quantity", 0),
        "unit_price_not_negative": ("unit_price", -100),
        "discount_in_range": ("discount", 1000),
    }
    uncastable = ("unit_price", "n/a")
    rates, floors = (0.0, 0.0005, 0.0002), (0, 3, 2)
    hook_rate = Sales.rates[0]  # new sales come with their items
    carries_generic = True

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        return {}  # made with the sales

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        count = len(times)
        cols, counts, _ = Sales.lines(sim, rng, count, _active_products(sim, rng))
        first = np.cumsum(counts) - counts  # one line per row
        cols = {name: values[first] for name, values in cols.items()}
        return {"sale_id": sim.pick_parent(Sales.name, count, rng), **cols}

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        count = len(keys)
        requantify = rng.random(count) < 0.6
        quantity = np.maximum(1, rows["quantity"] + rng.choice([-1, 1, 2], size=count))
        discount = np.where(rng.random(count) < 0.5, 0, rng.choice(_DISCOUNTS, size=count))
        rows["quantity"] = np.where(requantify, quantity, rows["quantity"]).astype(np.int32)
        rows["discount"] = np.where(requantify, rows["discount"], discount).astype(np.int64)
        return rows

    def deletable(self, sim: Simulation) -> Arr:
        return np.ones(sim.state[self.name].size, dtype=bool)


class Employees(TableSim):
    name = "employees"
    source = "hr"
    key = "employee_id"
    file_format = "csv"
    columns: ClassVar[dict[str, str]] = {
        "employee_id": "id",
        "name": "str",
        "age": "int",
        "active": "bool",
        "salary": "dec2",
        "reference_date": "date",
    }
    extra = ("department", 2)
    violations: ClassVar[dict[str, tuple[str, Any]]] = {
        "age_in_range": ("age", 130),
        "salary_not_negative": ("salary", -10_000),
    }
    uncastable = ("age", "abc")
    base_rows, min_rows = 20_000, 60
    rates, floors = (0.003, 0.05, 0.002), (3, 5, 1)  # monthly reviews update 5%
    carries_generic = True

    @staticmethod
    def _salary(rng: np.random.Generator, age: Arr) -> Arr:
        yearly = (28_000 + (age - 18) * 1_100) * rng.lognormal(0.0, 0.25, size=len(age))
        return (np.round(yearly) * 100).astype(np.int64)

    def full_load(self, sim: Simulation, rng: np.random.Generator) -> dict[str, Cols]:
        count = self.size(sim.scale)
        name, _ = _person(rng, count, V.EMAIL_DOMAINS)
        age = rng.integers(18, 68, size=count).astype(np.int32)
        reference = V.uniform_between(
            rng, clock.days("2023-01-01"), clock.days("2025-01-01"), count
        )
        return {
            self.name: {
                "name": V.with_nulls(rng, name, 0.01),
                "age": age,
                "active": rng.random(count) < 0.9,
                "salary": self._salary(rng, age),
                "reference_date": reference.astype(np.int32),
                "department": V.pick(rng, V.DEPARTMENTS, count),
            }
        }

    def new_rows(self, sim: Simulation, times: Arr, rng: np.random.Generator) -> Cols:
        count = len(times)
        name, _ = _person(rng, count, V.EMAIL_DOMAINS)
        age = rng.integers(18, 61, size=count).astype(np.int32)
        return {
            "name": name,
            "age": age,
            "active": np.ones(count, dtype=bool),
            "salary": self._salary(rng, age),
            "reference_date": _date(times),
            "department": V.pick(rng, V.DEPARTMENTS, count),
        }

    def changed(self, sim: Simulation, keys: Arr, times: Arr, rng: np.random.Generator) -> Cols:
        rows = sim.state[self.name].rows(keys)
        count = len(keys)
        raise_ = rng.uniform(1.02, 1.10, size=count)
        rows["salary"] = (np.round(rows["salary"] * raise_ / 100) * 100).astype(np.int64)
        rows["reference_date"] = _date(times)
        rows["active"] = _flip(rng, rows["active"], 0.15)
        birthday = rng.random(count) < 0.1
        rows["age"] = np.minimum(rows["age"] + birthday, 100).astype(np.int32)
        return rows

    def deletable(self, sim: Simulation) -> Arr:
        return np.ones(sim.state[self.name].size, dtype=bool)


def demo_tables() -> list[TableSim]:
    """Fresh simulators of the demo tables, parents before children."""
    return [
        Clients(),
        ClientAddresses(),
        SalesPeople(),
        Products(),
        Sales(),
        SalesItems(),
        Employees(),
    ]
