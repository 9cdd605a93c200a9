-- 报警平均响应时长（分钟） — facts: one row per sensor alert raised in the period (Asia/Shanghai day)
-- and acknowledged. numerator: minutes from raised to acknowledged; denominator: 1. Lower is better.
-- Alerts not yet acknowledged are not in the mean (see the wall for open alerts).
SELECT a.district_adcode, s.grid_code, s.kind AS category,
       (a.raised_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
       round((extract(epoch FROM a.acknowledged_at - a.raised_at) / 60.0)::numeric, 2) AS num, 1 AS den,
       'alert' AS record_kind, a.id AS record_id, NULL::bigint AS entity_id, s.name AS label, s.geom
FROM alerts a
JOIN sensors s ON s.id = a.sensor_id
WHERE a.acknowledged_at IS NOT NULL
  AND a.raised_at >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND a.raised_at < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
