-- 事件处置率 — facts: one row per city event reported in the period (Asia/Shanghai day) that was
-- accepted (立案 or later, i.e. not still in 信息收集).
-- numerator: handling finished (反馈, 核查 or 结案); denominator: 1.
SELECT v.district_adcode, v.grid_code, v.category, (v.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
       (v.status IN ('反馈', '核查', '结案'))::int AS num, 1 AS den,
       'event' AS record_kind, v.id AS record_id, NULL::bigint AS entity_id,
       coalesce(c.name_zh, v.category) || ' ' || left(v.description, 40) AS label, v.geom
FROM city_events v
LEFT JOIN event_categories c ON c.code = v.category
WHERE v.reported_at >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND v.reported_at < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND v.status <> '信息收集'
