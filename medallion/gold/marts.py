"""The gold marts of the demo domain (docs/demo.md#gold-marts), as pure DataFrame -> DataFrame
transforms.

Each transform takes the silver tables it reads as keyword arguments named after them
(``sales_daily(sales=..., sales_items=..., products=...)``), ignores any extra column (silver's
``_``-prefixed metadata), and returns exactly the columns declared in
``domain/models/<mart>.yaml``.

Definitions, where docs/demo.md#gold-marts leaves room:

- Net revenue of an item = ``quantity * unit_price * (1 - discount)`` with the item's own
  ``unit_price``; a NULL discount counts as no discount. Sums are exact decimals, rounded
  HALF_UP to 2 decimals only at the end, as ``decimal(18,2)``. Items with a NULL quantity or
  unit price add nothing (SQL ``sum`` semantics).
- Only sales with ``status = 'completed'`` count. A sale's items are the silver ``sales_items``
  rows with its ``sale_id``.
- ``sales_daily``: per ``sale_date = to_date(sale_ts)`` (UTC) and product category, a join of
  items with their completed sale; an item whose product is missing from silver has category
  NULL and is kept. A completed sale without items does not appear. ``sale_month`` = first day
  of ``sale_date``'s month (the partition column).
- ``sales_person_monthly``: per ``month`` (first day of the month of ``sale_ts``) and
  ``sales_person_id``, with ``name`` and ``region`` from silver ``sales_people`` (NULL when the
  person is missing). ``orders`` counts completed sales, with or without items;
  ``net_revenue`` is 0.00 for a person whose sales have no items. ``avg_ticket`` =
  exact net revenue / orders, rounded HALF_UP. ``region_rank`` = ``rank()`` over
  (month, region) by ``net_revenue`` (the rounded column) descending: ties share a rank, and a
  NULL region is ranked as one region.
- ``customer_value``: one row per silver client. ``state`` of the primary address
  (``is_primary`` true; among several, the smallest ``address_id``; NULL without one).
  ``first_order_at``/``last_order_at`` = min/max ``sale_ts`` of completed sales (NULL without
  any); ``completed_orders`` (0 without any); ``lifetime_net_revenue`` (0.00 without any).
- ``avg_salary_by_age``: per ``age``, ``active``, ``year`` and ``month`` of ``reference_date``:
  ``avg_salary`` = exact mean of the non-NULL salaries rounded HALF_UP to ``decimal(14,2)``
  (NULL when all are NULL); ``employees`` = rows in the group.

Averages are computed as an exact sum divided at 13 or more decimals, then rounded HALF_UP once:
for fewer than 5*10^8 rows per group that equals rounding the exact quotient (Spark's ``avg``
would round to 6 decimals first, and HALF_UP twice can differ from once).

Incremental refresh (``medallion.gold.run_gold``): next to each transform ``<name>`` lives its
scope function ``<name>_scope(changes: Changes) -> DataFrame``, named by the model's ``scope``.
It returns the distinct values of one or more gold columns whose rows the silver changes may
have altered (``sale_date`` here); the runner recomputes the transform for those values only and
replaces them in gold. To add a mart: declare a ``GoldModel`` whose ``transform`` is
``"package.module:name"`` and whose ``scope`` is ``"package.module:name_scope"``, write both
(keyword arguments = the declared ``sources``). Without a scope function the mart is recomputed in
full on every run that sees a change (still writing only the rows that differ). The same marts
as SQL models, whose scopes are derived from the query, are in ``domain/models``.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from medallion.gold.changes import Changes

REVENUE = "decimal(18,2)"
SALARY = "decimal(14,2)"
COMPLETED = "completed"


# --- column functions ---------------------------------------------------------------------


def gross_amount(items: DataFrame) -> Column:
    """``quantity * unit_price`` of an item, exact (``decimal(21,2)``)."""
    return items["quantity"].cast("decimal(10,0)") * items["unit_price"]


def net_amount(items: DataFrame) -> Column:
    """``quantity * unit_price * (1 - discount)`` of an item, exact (scale 5)."""
    return gross_amount(items) * (F.lit(1) - F.coalesce(items["discount"], F.lit(0)))


def money(total: Column, type_: str = REVENUE) -> Column:
    """An exact sum rounded HALF_UP to 2 decimals (Spark's ``round`` on decimals is HALF_UP)."""
    return F.round(total, 2).cast(type_)


def mean(total: Column, count: Column, total_type: str, type_: str) -> Column:
    """``total / count`` rounded HALF_UP once to ``type_``'s 2 decimals (NULL when count is 0).

    ``total`` is cast to ``total_type`` and ``count`` to ``decimal(10,0)`` so that Spark
    divides at 13 or more decimals instead of 6 (see the module docstring).
    """
    quotient = total.cast(total_type) / F.when(count > 0, count).cast("decimal(10,0)")
    return F.round(quotient, 2).cast(type_)


def first_of_month(day: Column) -> Column:
    return F.trunc(day, "month")


def is_completed(sales: DataFrame) -> Column:
    return sales["status"] == F.lit(COMPLETED)


def net_per_sale(sales_items: DataFrame) -> DataFrame:
    """``sale_id``, ``net`` (exact sum of its items' net revenue)."""
    return sales_items.groupBy("sale_id").agg(F.sum(net_amount(sales_items)).alias("net"))


# --- transforms ---------------------------------------------------------------------------


def sales_daily(sales: DataFrame, sales_items: DataFrame, products: DataFrame) -> DataFrame:
    """Completed sales per day and product category (items joined to their sale)."""
    completed = sales.filter(is_completed(sales)).select(
        "sale_id", F.to_date("sale_ts").alias("sale_date")
    )
    items = sales_items.select(
        "sale_id",
        "product_id",
        "quantity",
        gross_amount(sales_items).alias("gross"),
        net_amount(sales_items).alias("net"),
    )
    categories = products.select("product_id", "category")
    joined = items.join(completed, "sale_id").join(categories, "product_id", "left")
    return joined.groupBy("sale_date", "category").agg(
        F.countDistinct("sale_id").alias("orders"),
        F.sum("quantity").cast("bigint").alias("units"),
        money(F.sum("gross")).alias("gross_revenue"),
        money(F.sum("net")).alias("net_revenue"),
        first_of_month(F.col("sale_date")).alias("sale_month"),
    )


def sales_person_monthly(
    sales: DataFrame, sales_items: DataFrame, sales_people: DataFrame
) -> DataFrame:
    """Completed orders and net revenue per sales person and month, ranked within the region."""
    completed = sales.filter(is_completed(sales)).select(
        "sale_id",
        "sales_person_id",
        first_of_month(F.to_date("sale_ts")).alias("month"),
    )
    per_person = (
        completed.join(net_per_sale(sales_items), "sale_id", "left")
        .groupBy("month", "sales_person_id")
        .agg(
            F.count(F.lit(1)).alias("orders"),
            F.coalesce(F.sum("net"), F.lit(0)).alias("net"),
        )
    )
    people = sales_people.select("sales_person_id", "name", "region")
    ranking = Window.partitionBy("month", "region").orderBy(F.col("net_revenue").desc())
    return (
        per_person.join(people, "sales_person_id", "left")
        .withColumn("net_revenue", money(F.col("net")))
        .select(
            "month",
            "sales_person_id",
            "name",
            "region",
            "orders",
            "net_revenue",
            mean(F.col("net"), F.col("orders"), "decimal(24,5)", REVENUE).alias("avg_ticket"),
            F.rank().over(ranking).cast("int").alias("region_rank"),
        )
    )


def customer_value(
    clients: DataFrame, client_addresses: DataFrame, sales: DataFrame, sales_items: DataFrame
) -> DataFrame:
    """Lifetime value per client, with the state of the primary address."""
    first_primary = Window.partitionBy("client_id").orderBy("address_id")
    primary = (
        client_addresses.filter(F.col("is_primary") & F.col("client_id").isNotNull())
        .withColumn("_pick", F.row_number().over(first_primary))
        .filter(F.col("_pick") == 1)
        .select("client_id", "state")
    )
    orders = (
        sales.filter(is_completed(sales))
        .select("sale_id", "client_id", "sale_ts")
        .join(net_per_sale(sales_items), "sale_id", "left")
        .groupBy("client_id")
        .agg(
            F.min("sale_ts").alias("first_order_at"),
            F.max("sale_ts").alias("last_order_at"),
            F.count(F.lit(1)).alias("completed_orders"),
            F.sum("net").alias("net"),
        )
    )
    return (
        clients.select("client_id", "name")
        .join(primary, "client_id", "left")
        .join(orders, "client_id", "left")
        .select(
            "client_id",
            "name",
            "state",
            "first_order_at",
            "last_order_at",
            F.coalesce(F.col("completed_orders"), F.lit(0))
            .cast("bigint")
            .alias("completed_orders"),
            money(F.coalesce(F.col("net"), F.lit(0))).alias("lifetime_net_revenue"),
        )
    )


def avg_salary_by_age(employees: DataFrame) -> DataFrame:
    """Average salary and head count per age and activity, per month of ``reference_date``."""
    return (
        employees.groupBy(
            "age",
            "active",
            F.year("reference_date").alias("year"),
            F.month("reference_date").alias("month"),
        )
        .agg(
            F.sum("salary").alias("total"),
            F.count("salary").alias("paid"),
            F.count(F.lit(1)).alias("employees"),
        )
        .select(
            "age",
            "active",
            mean(F.col("total"), F.col("paid"), "decimal(22,2)", SALARY).alias("avg_salary"),
            "employees",
            "year",
            "month",
        )
    )


# --- scope functions (what a set of silver changes may alter) -------------------------------
# The columns passed to ``changes.images`` are the ones each mart reads: an update touching
# only other columns (e.g. ``total_amount``) recomputes nothing.

SALE_COLUMNS = ("client_id", "sales_person_id", "sale_ts", "status")
ITEM_REVENUE_COLUMNS = ("sale_id", "quantity", "unit_price", "discount")


def _completed_images(changes: Changes, *columns: str) -> DataFrame:
    """Before/after images of sales whose ``columns`` changed, where the image was completed."""
    images = changes.images("sales", *columns)
    return images.filter(is_completed(images))


def _sales_of_changed_items(changes: Changes, *columns: str) -> DataFrame:
    """Current completed sales having an item (before or after the change) that changed."""
    sale_ids = changes.images("sales_items", *columns).select("sale_id")
    sales = changes.current["sales"]
    return sales.filter(is_completed(sales)).join(sale_ids.distinct(), "sale_id", "left_semi")


def _sales_of_items(changes: Changes, items: DataFrame) -> DataFrame:
    sales = changes.current["sales"]
    return sales.filter(is_completed(sales)).join(
        items.select("sale_id").distinct(), "sale_id", "left_semi"
    )


def sales_daily_scope(changes: Changes) -> DataFrame:
    """``sale_date`` values touched: moved/changed sales, changed items, re-categorised products.

    A product changing category touches every date on which it was sold.
    """
    items = changes.current["sales_items"]
    products = changes.images("products", "category").select("product_id").distinct()
    sales = [
        _completed_images(changes, "sale_ts", "status"),
        _sales_of_changed_items(
            changes, "sale_id", "product_id", "quantity", "unit_price", "discount"
        ),
        _sales_of_items(changes, items.join(products, "product_id", "left_semi")),
    ]
    return _union(F.to_date("sale_ts").alias("sale_date"), sales)


def sales_person_monthly_scope(changes: Changes) -> DataFrame:
    """``month`` values touched; a person changing name or region touches all their months."""
    sales = changes.current["sales"]
    people = changes.images("sales_people", "name", "region").select("sales_person_id").distinct()
    touched = [
        _completed_images(changes, "sales_person_id", "sale_ts", "status"),
        _sales_of_changed_items(changes, *ITEM_REVENUE_COLUMNS),
        sales.filter(is_completed(sales)).join(people, "sales_person_id", "left_semi"),
    ]
    return _union(first_of_month(F.to_date("sale_ts")).alias("month"), touched)


def customer_value_scope(changes: Changes) -> DataFrame:
    """``client_id`` values touched, old and new ones when a sale or an address moves."""
    clients = changes.images("clients", "name").select("client_id")
    addresses = changes.images("client_addresses", "client_id", "state", "is_primary")
    sales = [
        _completed_images(changes, "client_id", "sale_ts", "status"),
        _sales_of_changed_items(changes, *ITEM_REVENUE_COLUMNS),
    ]
    return (
        _union(F.col("client_id"), sales)
        .unionByName(clients)
        .unionByName(addresses.select("client_id"))
        .distinct()
    )


def avg_salary_by_age_scope(changes: Changes) -> DataFrame:
    """``(year, month)`` of the old and new ``reference_date`` of changed employees."""
    images = changes.images("employees", "age", "active", "salary", "reference_date")
    return images.select(
        F.year("reference_date").alias("year"), F.month("reference_date").alias("month")
    ).distinct()


def _union(value: Column, frames: list[DataFrame]) -> DataFrame:
    selected = [frame.select(value) for frame in frames]
    result = selected[0]
    for frame in selected[1:]:
        result = result.unionByName(frame)
    return result.distinct()
