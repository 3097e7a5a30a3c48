/*
description: Average salary per age and activity, per month of reference_date.
grain: [age, active, year, month]
partition_by: [year, month]
columns:
  age: {comment: "Age of the employees."}
  active: {comment: "Whether they are active (NULL when unknown)."}
  avg_salary: {type: "decimal(14,2)", comment: "Exact mean of the non-NULL salaries, rounded half-up (NULL when all are NULL)."}
  employees: {comment: "Rows in the group."}
  year: {comment: "Year of reference_date."}
  month: {comment: "Month of reference_date."}
*/
SELECT
  e.age,
  e.active,
  CAST(
    ROUND(
      CAST(SUM(e.salary) AS DECIMAL(22, 2))
        / CAST(CASE WHEN COUNT(e.salary) > 0 THEN COUNT(e.salary) END AS DECIMAL(10, 0)),
      2
    ) AS DECIMAL(14, 2)
  ) AS avg_salary,
  COUNT(1) AS employees,
  year(e.reference_date) AS year,
  month(e.reference_date) AS month
FROM employees AS e
GROUP BY e.age, e.active, year(e.reference_date), month(e.reference_date)
