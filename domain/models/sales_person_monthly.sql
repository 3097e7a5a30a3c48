/*
description: Completed orders and net revenue per sales person and month, ranked by region.
grain: [month, sales_person_id]
partition_by: [month]
columns:
  month: {comment: "First day of the month of sale_ts."}
  sales_person_id: {comment: "The sales person of the sales."}
  name: {comment: "The sales person's name; NULL when not in silver."}
  region: {comment: "The sales person's region; NULL when not in silver."}
  orders: {comment: "Completed sales, with or without items."}
  net_revenue: {type: "decimal(18,2)", comment: "Net revenue of those sales' items."}
  avg_ticket: {type: "decimal(18,2)", comment: "Exact net revenue / orders, rounded half-up."}
  region_rank: {comment: "rank() of net_revenue, highest first, within the region that month."}
*/
WITH sale_net AS (
  SELECT
    i.sale_id,
    SUM(CAST(i.quantity AS DECIMAL(10, 0)) * i.unit_price * (1 - COALESCE(i.discount, 0))) AS net
  FROM sales_items AS i
  GROUP BY i.sale_id
),
per_person AS (
  SELECT
    trunc(to_date(s.sale_ts), 'MM') AS month,
    s.sales_person_id,
    COUNT(1) AS orders,
    COALESCE(SUM(n.net), 0) AS net
  FROM sales AS s
  LEFT JOIN sale_net AS n ON n.sale_id = s.sale_id
  WHERE s.status = 'completed'
  GROUP BY trunc(to_date(s.sale_ts), 'MM'), s.sales_person_id
)
SELECT
  p.month,
  p.sales_person_id,
  sp.name,
  sp.region,
  p.orders,
  CAST(ROUND(p.net, 2) AS DECIMAL(18, 2)) AS net_revenue,
  CAST(
    ROUND(
      CAST(p.net AS DECIMAL(24, 5)) / CAST(CASE WHEN p.orders > 0 THEN p.orders END AS DECIMAL(10, 0)),
      2
    ) AS DECIMAL(18, 2)
  ) AS avg_ticket,
  CAST(
    RANK() OVER (PARTITION BY p.month, sp.region ORDER BY CAST(ROUND(p.net, 2) AS DECIMAL(18, 2)) DESC)
    AS INT
  ) AS region_rank
FROM per_person AS p
LEFT JOIN sales_people AS sp ON sp.sales_person_id = p.sales_person_id
