-- 案件法定期限内决定率 — facts: one row per case whose statutory deadline falls in the period and has
-- passed by %(today)s, or that is already decided. The deadline (《行政处罚法》第六十条): 90 natural days
-- after 立案, plus an approved extension (30 days) and the days the clock stood still (听证/检测/鉴定
-- pauses); a deadline on a day off moves to the next working day (民法典 第二百零三条).
-- numerator: decided (decided_on, else closed_on) on or before the deadline; denominator: 1.
-- A case still open when its deadline passed counts against the rate.
SELECT c.district_adcode, e.grid_code, e.category, d.deadline AS day,
       coalesce(coalesce(c.decided_on, c.closed_on) <= d.deadline, false)::int AS num, 1 AS den,
       'case' AS record_kind, c.id AS record_id, c.entity_id, c.case_no || ' ' || c.title AS label, e.geom
FROM cases c
JOIN entities e ON e.id = c.entity_id
CROSS JOIN LATERAL (
    SELECT c.opened_on + 90 + c.extension_days
           + coalesce((SELECT sum(greatest(0, coalesce(p.ended_on, %(today)s::date) - p.started_on))::int
                       FROM case_clock_pauses p WHERE p.case_id = c.id), 0) AS raw) r
CROSS JOIN LATERAL (SELECT CASE WHEN zt_is_workday(r.raw) THEN r.raw ELSE zt_add_workdays(r.raw, 1) END
                    AS deadline) d
WHERE d.deadline BETWEEN %(from)s AND %(to)s
  AND (d.deadline < %(today)s OR coalesce(c.decided_on, c.closed_on) IS NOT NULL)
