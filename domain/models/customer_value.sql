/*
description: Lifetime value per client, with the state of the primary address.
grain: [client_id]
columns:
  client_id: {comment: "One row per silver client."}
  name: {comment: "The client's name."}
  state: {comment: "State of the primary address (the smallest address_id among several); NULL without one."}
  first_order_at: {comment: "First completed sale; NULL without any."}
  last_order_at: {comment: "Last completed sale; NULL without any."}
  completed_orders: {comment: "Completed sales (0 without any)."}
  lifetime_net_revenue: {type: "decimal(18,2)", comment: "Net revenue of the completed sales' items."}
*/
WITH ranked_addresses AS (
  SELECT
    a.client_id,
    a.state,
    ROW_NUMBER() OVER (PARTITION BY a.client_id ORDER BY a.address_id) AS pick
  FROM client_addresses AS a
  WHERE a.is_primary AND a.client_id IS NOT NULL
),
primary_address AS (
  SELECT r.client_id, r.state FROM ranked_addresses AS r WHERE r.pick = 1
),
sale_net AS (
  SELECT
    i.sale_id,
    SUM(CAST(i.quantity AS DECIMAL(10, 0)) * i.unit_price * (1 - COALESCE(i.discount, 0))) AS net
  FROM sales_items AS i
  GROUP BY i.sale_id
),
orders AS (
  SELECT
    s.client_id,
    MIN(s.sale_ts) AS first_order_at,
    MAX(s.sale_ts) AS last_order_at,
    COUNT(1) AS completed_orders,
    SUM(n.net) AS net
  FROM sales AS s
  LEFT JOIN sale_net AS n ON n.sale_id = s.sale_id
  WHERE s.status = 'completed'
  GROUP BY s.client_id
)
SELECT
  c.client_id,
  c.name,
  pa.state,
  o.first_order_at,
  o.last_order_at,
  CAST(COALESCE(o.completed_orders, 0) AS BIGINT) AS completed_orders,
  CAST(ROUND(COALESCE(o.net, 0), 2) AS DECIMAL(18, 2)) AS lifetime_net_revenue
FROM clients AS c
LEFT JOIN primary_address AS pa ON pa.client_id = c.client_id
LEFT JOIN orders AS o ON o.client_id = c.client_id
