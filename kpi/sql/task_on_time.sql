-- 检查任务按期完成率 — facts: one row per inspection task whose deadline falls in the period and has
-- passed by %(today)s, or that is finished (a 检查结果 recorded, or status done). A deadline on a day
-- off moves to the next working day (期间届满日为法定节假日的，以节假日后的第一个工作日为届满日).
-- numerator: the result was recorded (Asia/Shanghai day) on or before that deadline — a task marked
-- done without a recorded result (older data) counts as on time; denominator: 1.
SELECT t.district_adcode, e.grid_code, e.category, t.due_date AS day,
       coalesce((r.recorded_at AT TIME ZONE 'Asia/Shanghai')::date <= d.deadline, t.status = 'done')::int AS num,
       1 AS den,
       'task' AS record_kind, t.id AS record_id, t.entity_id, e.name AS label, e.geom
FROM inspection_tasks t
JOIN entities e ON e.id = t.entity_id
LEFT JOIN task_results r ON r.task_id = t.id
CROSS JOIN LATERAL (SELECT CASE WHEN zt_is_workday(t.due_date) THEN t.due_date
                                ELSE zt_add_workdays(t.due_date, 1) END AS deadline) d
WHERE t.due_date BETWEEN %(from)s AND %(to)s
  AND (t.status = 'done' OR r.task_id IS NOT NULL OR d.deadline < %(today)s)
