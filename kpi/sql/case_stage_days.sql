-- 各阶段平均办理时长（天） — facts: one row per stage a case left in the period (Asia/Shanghai day of the
-- step out of it), from the append-only case history (case_events: open, transition, rework).
-- numerator: days spent in that stage (from the step into it to the step out of it, in days with
-- fractions); denominator: 1. category = the stage (立案, 调查取证, 法制审核, 决定, 执行), so the
-- mean can be read stage by stage; a stage entered twice (rework) counts each stay.
SELECT s.district_adcode, e.grid_code, s.from_stage AS category,
       (s.at AT TIME ZONE 'Asia/Shanghai')::date AS day,
       round((extract(epoch FROM s.at - s.entered_at) / 86400.0)::numeric, 2) AS num, 1 AS den,
       'case' AS record_kind, c.id AS record_id, c.entity_id,
       c.case_no || ' ' || s.from_stage || ' → ' || s.to_stage AS label, e.geom
FROM (SELECT ev.case_id, ev.district_adcode, ev.from_stage, ev.to_stage, ev.at,
             lag(ev.at) OVER (PARTITION BY ev.case_id ORDER BY ev.at, ev.id) AS entered_at, ev.action
      FROM case_events ev
      WHERE ev.action IN ('open', 'transition', 'rework')) s
JOIN cases c ON c.id = s.case_id
JOIN entities e ON e.id = c.entity_id
WHERE s.action IN ('transition', 'rework') AND s.entered_at IS NOT NULL
  AND s.at >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
  AND s.at < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
