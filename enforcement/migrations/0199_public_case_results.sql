-- 一公开, second step: once the case workflow exists (0180_case_workflow.sql: task_results,
-- cases.decision / penalty_yuan / decided_on / closed_on / published), the public functions of
-- 0170_public.sql also show each drawn task's standard result (never the free-text findings) and the
-- decision of closed cases. A case appears only when it is closed (结案) AND published, which the
-- workflow sets on closing. Same rules as 0170: SECURITY DEFINER, published rows only, public columns
-- only, personal data masked in SQL.

DROP FUNCTION zt_public_draw_results(text, text, date, date, bigint, integer, integer);
DROP FUNCTION zt_public_cases(text, text, date, date, integer, integer);

CREATE FUNCTION zt_public_draw_results(p_q text, p_district text, p_from date, p_to date,
                                       p_plan bigint, p_limit integer, p_offset integer)
RETURNS TABLE (plan_id bigint, plan_name text, seq integer, entity_name text, uscc text,
               district_adcode text, district_name text, category text, department text,
               legal_rep_name text, legal_rep_id text, task_status text, drawn_on date,
               result text, result_on date, total bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT r.plan_id, p.name, r.seq, e.name, e.uscc::text, r.district_adcode::text,
           zt_area_name(r.district_adcode), c.name_zh, r.department,
           zt_mask_person_name(e.legal_rep_name), zt_mask_id_number(e.legal_rep_id), t.status,
           (p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date,
           tr.result, (tr.recorded_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) OVER ()
    FROM draw_results r
    JOIN draw_plans p ON p.id = r.plan_id AND p.status = 'drawn'
    JOIN entities e ON e.id = r.entity_id
    JOIN entity_categories c ON c.code = e.category
    LEFT JOIN inspection_tasks t ON t.id = r.task_id
    LEFT JOIN task_results tr ON tr.task_id = r.task_id
    WHERE (p_plan IS NULL OR r.plan_id = p_plan OR r.member_plan_id = p_plan)
      AND (p_district IS NULL OR left(r.district_adcode, length(p_district)) = p_district)
      AND (p_from IS NULL OR (p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date >= p_from)
      AND (p_to IS NULL OR (p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date <= p_to)
      AND (coalesce(p_q, '') = '' OR e.name ILIKE zt_contains_pattern(p_q) OR e.uscc = upper(p_q))
    ORDER BY p.drawn_at DESC, r.plan_id DESC, r.seq
    LIMIT least(greatest(coalesce(p_limit, 100), 1), 1000) OFFSET greatest(coalesce(p_offset, 0), 0)
$$;

CREATE FUNCTION zt_public_cases(p_q text, p_district text, p_from date, p_to date,
                                p_limit integer, p_offset integer)
RETURNS TABLE (case_no text, title text, entity_name text, uscc text, district_adcode text,
               district_name text, legal_rep_name text, legal_rep_id text, opened_on date, decision text,
               penalty_yuan numeric, decided_on date, closed_on date, total bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT k.case_no, k.title, e.name, e.uscc::text, k.district_adcode::text,
           zt_area_name(k.district_adcode), zt_mask_person_name(e.legal_rep_name),
           zt_mask_id_number(e.legal_rep_id), k.opened_on, k.decision, k.penalty_yuan,
           k.decided_on, k.closed_on, count(*) OVER ()
    FROM cases k JOIN entities e ON e.id = k.entity_id
    WHERE k.stage = '结案' AND k.published
      AND (p_district IS NULL OR left(k.district_adcode, length(p_district)) = p_district)
      AND (p_from IS NULL OR coalesce(k.closed_on, k.opened_on) >= p_from)
      AND (p_to IS NULL OR coalesce(k.closed_on, k.opened_on) <= p_to)
      AND (coalesce(p_q, '') = '' OR e.name ILIKE zt_contains_pattern(p_q) OR e.uscc = upper(p_q))
    ORDER BY coalesce(k.closed_on, k.opened_on) DESC, k.id DESC
    LIMIT least(greatest(coalesce(p_limit, 100), 1), 1000) OFFSET greatest(coalesce(p_offset, 0), 0)
$$;

REVOKE ALL ON FUNCTION zt_public_draw_results(text, text, date, date, bigint, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION zt_public_cases(text, text, date, date, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zt_public_draw_results(text, text, date, date, bigint, integer, integer)
    TO zhengtu_app;
GRANT EXECUTE ON FUNCTION zt_public_cases(text, text, date, date, integer, integer) TO zhengtu_app;
