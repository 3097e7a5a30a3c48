/*
description: Completed sales per day and product category.
grain: [sale_date, category]
partition_by: [sale_month]
columns:
  sale_date: {comment: "Day of the sale (UTC)."}
  category: {comment: "Category of the item's product; NULL when the product is not in silver."}
  orders: {comment: "Completed sales with an item of the category that day."}
  units: {comment: "Items' quantities summed."}
  gross_revenue: {type: "decimal(18,2)", comment: "quantity x unit_price, rounded half-up."}
  net_revenue: {type: "decimal(18,2)", comment: "quantity x unit_price x (1 - discount), rounded half-up."}
  sale_month: {comment: "First day of sale_date's month (the partition column)."}
*/
SELECT
  to_date(s.sale_ts) AS sale_date,
  p.category,
  COUNT(DISTINCT s.sale_id) AS orders,
  CAST(SUM(i.quantity) AS BIGINT) AS units,
  CAST(ROUND(SUM(CAST(i.quantity AS DECIMAL(10, 0)) * i.unit_price), 2) AS DECIMAL(18, 2))
    AS gross_revenue,
  CAST(
    ROUND(SUM(CAST(i.quantity AS DECIMAL(10, 0)) * i.unit_price * (1 - COALESCE(i.discount, 0))), 2)
    AS DECIMAL(18, 2)
  ) AS net_revenue,
  trunc(to_date(s.sale_ts), 'MM') AS sale_month
FROM sales_items AS i
JOIN sales AS s ON s.sale_id = i.sale_id
LEFT JOIN products AS p ON p.product_id = i.product_id
WHERE s.status = 'completed'
GROUP BY to_date(s.sale_ts), p.category
