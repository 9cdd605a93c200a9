-- 双随机抽查覆盖率 — facts: every regulated entity in the register counts once in the denominator (on
-- the period's first day); an entity drawn by a 双随机 plan drawn in the period (Asia/Shanghai day) adds
-- one to the numerator on its draw day. category = risk class (A lowest … D highest), so the rate can be
-- read per risk class, where sampling ratios differ.
SELECT e.district_adcode, e.grid_code, e.risk_class::text AS category, %(from)s::date AS day,
       0 AS num, 1 AS den, 'entity' AS record_kind, e.id AS record_id, e.id AS entity_id, e.name AS label, e.geom
FROM entities e
UNION ALL
SELECT e.district_adcode, e.grid_code, e.risk_class::text, d.day, 1, 0, 'entity', e.id, e.id, e.name, e.geom
FROM (SELECT r.entity_id, min((p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date) AS day
      FROM draw_results r JOIN draw_plans p ON p.id = r.plan_id
      WHERE p.status = 'drawn'
        AND p.drawn_at >= (%(from)s::date)::timestamp AT TIME ZONE 'Asia/Shanghai'
        AND p.drawn_at < (%(to)s::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
      GROUP BY r.entity_id) d
JOIN entities e ON e.id = d.entity_id
