-- 平均办案时长（天） — facts: one row per case decided (decided_on, else closed_on) in the period.
-- numerator: natural days from 立案 to the decision; denominator: 1 (mean = Σdays / cases).
SELECT c.district_adcode, e.grid_code, e.category, coalesce(c.decided_on, c.closed_on) AS day,
       (coalesce(c.decided_on, c.closed_on) - c.opened_on) AS num, 1 AS den,
       'case' AS record_kind, c.id AS record_id, c.entity_id, c.case_no || ' ' || c.title AS label, e.geom
FROM cases c
JOIN entities e ON e.id = c.entity_id
WHERE coalesce(c.decided_on, c.closed_on) BETWEEN %(from)s AND %(to)s
