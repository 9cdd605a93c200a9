-- 事件按期结案率 — facts: one row per city event whose deadline (set at 立案 from the category's working-
-- hour limit) falls in the period (Asia/Shanghai day) and has passed by %(today)s, or that is closed.
-- numerator: closed (结案) at or before the deadline; denominator: 1. An event still open after its
-- deadline counts against the rate; an event reopened by rework counts by its final closing time.
SELECT v.district_adcode, v.grid_code, v.category, (v.deadline AT TIME ZONE 'Asia/Shanghai')::date AS day,
       (v.status = '结案' AND v.closed_at <= v.deadline)::int AS num, 1 AS den,
       'event' AS record_kind, v.id AS record_id, NULL::bigint AS entity_id,
       coalesce(c.name_zh, v.category) || ' ' || left(v.description, 40) AS label, v.geom
FROM city_events v
LEFT JOIN event_categories c ON c.code = v.category
WHERE v.deadline >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND v.deadline < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND (v.status = '结案' OR (v.deadline AT TIME ZONE 'Asia/Shanghai')::date < %(today)s)
