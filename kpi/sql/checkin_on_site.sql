-- 现场签到率 — facts: one row per check-in stamped (server time, Asia/Shanghai day) in the period.
-- numerator: on site (within the site radius plus fix accuracy); denominator: 1.
SELECT c.district_adcode, e.grid_code, e.category,
       (c.server_time AT TIME ZONE 'Asia/Shanghai')::date AS day,
       c.on_site::int AS num, 1 AS den,
       'checkin' AS record_kind, c.id AS record_id, t.entity_id, e.name AS label, c.geom
FROM checkins c
JOIN inspection_tasks t ON t.id = c.task_id
JOIN entities e ON e.id = t.entity_id
WHERE c.server_time >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND c.server_time < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
