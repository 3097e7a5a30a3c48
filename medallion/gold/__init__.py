"""Gold: the business marts, refreshed incrementally from silver's change data feed.

``run_gold`` is the layer's entry point (:mod:`medallion.gold.runner`). The marts are pure
DataFrame -> DataFrame functions a notebook can call on silver tables::

    from medallion.gold import sales_daily
    sales_daily(sales=..., sales_items=..., products=...)

and any model, SQL or Python, runs on DataFrames passed in with
``run_model("sales_daily", sales=..., sales_items=..., products=...)``.
"""

from medallion.gold.changes import Changes, changed_images
from medallion.gold.marts import (
    avg_salary_by_age,
    avg_salary_by_age_scope,
    customer_value,
    customer_value_scope,
    sales_daily,
    sales_daily_scope,
    sales_person_monthly,
    sales_person_monthly_scope,
)
from medallion.gold.runner import GoldError, conform, refresh, run_gold, write_difference
from medallion.gold.scope import Scope
from medallion.gold.sql_transform import run_model

__all__ = [
    "Changes",
    "GoldError",
    "Scope",
    "avg_salary_by_age",
    "avg_salary_by_age_scope",
    "changed_images",
    "conform",
    "customer_value",
    "customer_value_scope",
    "refresh",
    "run_gold",
    "run_model",
    "sales_daily",
    "sales_daily_scope",
    "sales_person_monthly",
    "sales_person_monthly_scope",
    "write_difference",
]
