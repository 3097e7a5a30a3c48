"""The demo domain of DESIGN §3: a retail database and an HR table, replicated by DMS."""

from __future__ import annotations

from medallion.spec.model import Column, Domain, GoldModel, Rule, RuleAction, Table

EMAIL_PATTERN = r"^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$"

CLIENTS = Table(
    name="clients",
    source="retail",
    primary_key=("client_id",),
    columns=(
        Column("client_id", "bigint"),
        Column("name"),
        Column("email"),
        Column("phone"),
        Column("birth_date", "date"),
        Column("created_at", "timestamp"),
        Column("updated_at", "timestamp"),
    ),
    rules=(Rule("email_is_address", f"email RLIKE '{EMAIL_PATTERN}'"),),
)

CLIENT_ADDRESSES = Table(
    name="client_addresses",
    source="retail",
    primary_key=("address_id",),
    columns=(
        Column("address_id", "bigint"),
        Column("client_id", "bigint"),
        Column("street"),
        Column("city"),
        Column("state"),
        Column("zip_code"),
        Column("country"),
        Column("is_primary", "boolean"),
    ),
)

SALES_PEOPLE = Table(
    name="sales_people",
    source="retail",
    primary_key=("sales_person_id",),
    columns=(
        Column("sales_person_id", "bigint"),
        Column("name"),
        Column("email"),
        Column("region"),
        Column("hire_date", "date"),
        Column("active", "boolean"),
    ),
)

PRODUCTS = Table(
    name="products",
    source="retail",
    primary_key=("product_id",),
    columns=(
        Column("product_id", "bigint"),
        Column("name"),
        Column("category"),
        Column("unit_price", "decimal(10,2)"),
        Column("active", "boolean"),
    ),
    rules=(Rule("unit_price_positive", "unit_price > 0"),),
)

SALES = Table(
    name="sales",
    source="retail",
    primary_key=("sale_id",),
    columns=(
        Column("sale_id", "bigint"),
        Column("client_id", "bigint"),
        Column("sales_person_id", "bigint"),
        Column("sale_ts", "timestamp"),
        Column("status"),
        Column("total_amount", "decimal(12,2)"),
    ),
    rules=(
        Rule("status_known", "status IN ('completed', 'cancelled', 'pending')"),
        Rule("total_amount_not_negative", "total_amount >= 0"),
    ),
)

SALES_ITEMS = Table(
    name="sales_items",
    source="retail",
    primary_key=("sale_item_id",),
    columns=(
        Column("sale_item_id", "bigint"),
        Column("sale_id", "bigint"),
        Column("product_id", "bigint"),
        Column("quantity", "int"),
        Column("unit_price", "decimal(10,2)"),
        Column("discount", "decimal(4,3)"),
    ),
    rules=(
        Rule("quantity_positive", "quantity > 0"),
        Rule("unit_price_not_negative", "unit_price >= 0"),
        Rule("discount_in_range", "discount >= 0 AND discount < 1"),
    ),
)

EMPLOYEES = Table(
    name="employees",
    source="hr",
    primary_key=("employee_id",),
    columns=(
        Column("employee_id", "bigint"),
        Column("name"),
        Column("age", "int"),
        Column("active", "boolean"),
        Column("salary", "decimal(12,2)"),
        Column("reference_date", "date"),
    ),
    rules=(
        Rule("age_in_range", "age BETWEEN 14 AND 100"),
        Rule("salary_not_negative", "salary >= 0"),
    ),
)

_REVENUE = "decimal(18,2)"

SALES_DAILY = GoldModel(
    name="sales_daily",
    transform="medallion.gold.marts:sales_daily",
    scope="medallion.gold.marts:sales_daily_scope",
    sources=("sales", "sales_items", "products"),
    grain=("sale_date", "category"),
    partition_by=("sale_month",),
    columns=(
        Column("sale_date", "date"),
        Column("category"),
        Column("orders", "bigint"),
        Column("units", "bigint"),
        Column("gross_revenue", _REVENUE),
        Column("net_revenue", _REVENUE),
        Column("sale_month", "date", "first day of sale_date's month"),
    ),
    description="Completed sales per day and product category.",
)

SALES_PERSON_MONTHLY = GoldModel(
    name="sales_person_monthly",
    transform="medallion.gold.marts:sales_person_monthly",
    scope="medallion.gold.marts:sales_person_monthly_scope",
    sources=("sales", "sales_items", "sales_people"),
    grain=("month", "sales_person_id"),
    partition_by=("month",),
    columns=(
        Column("month", "date", "first day of the month of sale_ts"),
        Column("sales_person_id", "bigint"),
        Column("name"),
        Column("region"),
        Column("orders", "bigint"),
        Column("net_revenue", _REVENUE),
        Column("avg_ticket", _REVENUE),
        Column("region_rank", "int"),
    ),
    description="Completed orders and net revenue per sales person and month, ranked by region.",
)

CUSTOMER_VALUE = GoldModel(
    name="customer_value",
    transform="medallion.gold.marts:customer_value",
    scope="medallion.gold.marts:customer_value_scope",
    sources=("clients", "client_addresses", "sales", "sales_items"),
    grain=("client_id",),
    columns=(
        Column("client_id", "bigint"),
        Column("name"),
        Column("state"),
        Column("first_order_at", "timestamp"),
        Column("last_order_at", "timestamp"),
        Column("completed_orders", "bigint"),
        Column("lifetime_net_revenue", _REVENUE),
    ),
    description="Lifetime value per client, with the state of the primary address.",
)

AVG_SALARY_BY_AGE = GoldModel(
    name="avg_salary_by_age",
    transform="medallion.gold.marts:avg_salary_by_age",
    scope="medallion.gold.marts:avg_salary_by_age_scope",
    sources=("employees",),
    grain=("age", "active", "year", "month"),
    partition_by=("year", "month"),
    columns=(
        Column("age", "int"),
        Column("active", "boolean"),
        Column("avg_salary", "decimal(14,2)"),
        Column("employees", "bigint"),
        Column("year", "int"),
        Column("month", "int"),
    ),
    description="Average salary per age and activity, per month of reference_date.",
)

DEMO = Domain(
    tables=(CLIENTS, CLIENT_ADDRESSES, SALES_PEOPLE, PRODUCTS, SALES, SALES_ITEMS, EMPLOYEES),
    gold_models=(SALES_DAILY, SALES_PERSON_MONTHLY, CUSTOMER_VALUE, AVG_SALARY_BY_AGE),
)

# Keep RuleAction importable from here for users copying the demo as a template.
__all__ = ["DEMO", "RuleAction"]
