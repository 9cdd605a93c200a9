-- 检查取证完整率 — facts: one row per finished inspection (a 检查结果 recorded, or status done) whose
-- task is due in the period.
-- numerator: the inspection has an on-site check-in AND at least one photo or video (全过程记录);
-- denominator: 1.
SELECT t.district_adcode, e.grid_code, e.category, t.due_date AS day,
       (EXISTS (SELECT 1 FROM checkins c WHERE c.task_id = t.id AND c.on_site)
        AND EXISTS (SELECT 1 FROM evidence v WHERE v.task_id = t.id AND v.kind IN ('photo', 'video')))::int AS num,
       1 AS den,
       'task' AS record_kind, t.id AS record_id, t.entity_id, e.name AS label, e.geom
FROM inspection_tasks t
JOIN entities e ON e.id = t.entity_id
WHERE t.due_date BETWEEN %(from)s AND %(to)s
  AND (t.status = 'done' OR EXISTS (SELECT 1 FROM task_results r WHERE r.task_id = t.id))
