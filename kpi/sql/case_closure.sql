-- 案件结案率 — facts: one row per enforcement case opened (立案) in the period.
-- numerator: the case has reached 结案; denominator: 1. A case still open counts against it.
SELECT c.district_adcode, e.grid_code, e.category, c.opened_on AS day,
       (c.stage = '结案')::int AS num, 1 AS den,
       'case' AS record_kind, c.id AS record_id, c.entity_id, c.case_no || ' ' || c.title AS label, e.geom
FROM cases c
JOIN entities e ON e.id = c.entity_id
WHERE c.opened_on BETWEEN %(from)s AND %(to)s
