"""A SQL model whose output types were worked out by hand, shared by the type-inference tests
(sqlglot, without Spark) and the Spark test that checks them against Spark's own."""

#: Types worked out by hand from Spark's DecimalPrecision rules (checked against Spark in
#: test_gold_sql.py).
TYPED_QUERY = """
SELECT i.sale_id,
  SUM(CAST(i.quantity AS DECIMAL(10, 0)) * i.unit_price) AS gross,
  SUM(i.quantity) AS units,
  AVG(i.unit_price) AS mean_price,
  ROUND(SUM(i.unit_price * (1 - COALESCE(i.discount, 0))), 2) AS net,
  MAX(i.unit_price) / 3 AS third,
  COUNT(DISTINCT i.product_id) AS products,
  MAX(i.discount) AS top_discount,
  MIN(i.unit_price) + 0.5 AS plus_half,
  CAST(RANK() OVER (PARTITION BY i.sale_id ORDER BY SUM(i.quantity)) AS INT) AS ranked,
  trunc(to_date(MAX(s.sale_ts)), 'MM') AS month
FROM sales_items i JOIN sales s ON s.sale_id = i.sale_id
GROUP BY i.sale_id
"""
TYPED_COLUMNS = {
    "sale_id": "bigint",
    "gross": "decimal(31,2)",  # (10,0) * (10,2) = (21,2); sum adds 10 digits
    "units": "bigint",
    "mean_price": "decimal(14,6)",  # avg adds 4 digits and 4 decimals
    "net": "decimal(33,2)",  # (10,2) * (14,3) = (25,5); sum (35,5); round to 2 decimals
    "third": "decimal(14,6)",  # division keeps at least 6 decimals
    "products": "bigint",
    "top_discount": "decimal(4,3)",
    "plus_half": "decimal(11,2)",
    "ranked": "int",
    "month": "date",
}
