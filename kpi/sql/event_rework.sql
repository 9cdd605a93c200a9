-- 事件返工率 — facts: one row per city event closed (结案) in the period (Asia/Shanghai day).
-- numerator: the event was sent back at least once (核查 not passed → 处置 again, rework_count > 0);
-- denominator: 1. Lower is better.
SELECT v.district_adcode, v.grid_code, v.category, (v.closed_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
       (v.rework_count > 0)::int AS num, 1 AS den,
       'event' AS record_kind, v.id AS record_id, NULL::bigint AS entity_id,
       coalesce(c.name_zh, v.category) || ' ' || left(v.description, 40) AS label, v.geom
FROM city_events v
LEFT JOIN event_categories c ON c.code = v.category
WHERE v.status = '结案'
  AND v.closed_at >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND v.closed_at < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
