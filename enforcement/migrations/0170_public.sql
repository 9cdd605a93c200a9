-- 一公开: what anyone may read without logging in, and nothing else.
--
-- Public callers have no region, so every row-level policy hides every row from them. Instead of
-- opening tables, the public reads through these SECURITY DEFINER functions: each returns only
-- published rows (plans published or drawn; results of drawn plans only; closed cases only) and only
-- public columns, with personal data masked inside the database, so that unmasked values never
-- reach the web process on a public request. Filters are parameters; nothing is built from text.
-- The functions are owned by the migrating role (which bypasses row security) and executable only
-- by zhengtu_app; 0199_public_case_results.sql extends them with the case workflow's columns.

CREATE FUNCTION zt_mask_person_name(name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN coalesce(name, '') = '' THEN '' ELSE left(name, 1) || repeat('*', length(name) - 1) END
$$;

-- Same rule as data/ids.mask_id_number: first four and last four kept, all of it if shorter than 15.
CREATE FUNCTION zt_mask_id_number(id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN id IS NULL THEN ''
                WHEN length(id) < 15 THEN repeat('*', length(id))
                ELSE left(id, 4) || repeat('*', length(id) - 8) || right(id, 4) END
$$;

-- A LIKE pattern that matches ``q`` literally anywhere (% and _ in user text are not wildcards).
CREATE FUNCTION zt_contains_pattern(q text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

CREATE FUNCTION zt_area_name(code text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = public AS $$
    SELECT coalesce((SELECT name FROM admin_areas
                     WHERE adcode = rpad(code, 6, '0')
                       AND level = CASE length(code) WHEN 2 THEN 'province' WHEN 4 THEN 'city'
                                                     ELSE 'district' END
                     LIMIT 1), code)
$$;

-- Plans the public may see: published (seed hash) or drawn (seed, hashes). Drafts never.
CREATE FUNCTION zt_public_plans(p_district text, p_from date, p_to date)
RETURNS TABLE (id bigint, name text, kind text, region_adcode text, region_name text, department text,
               categories text[], ratios jsonb, members bigint[], joint_id bigint, period_from date,
               period_to date, status text, seed_hash text, seed text, register_hash text,
               result_hash text, entities_total integer, drawn_count integer, published_at timestamptz,
               drawn_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT p.id, p.name, p.kind, p.region_adcode, zt_area_name(p.region_adcode), p.department,
           p.categories, p.ratios, p.members, p.joint_id, p.period_from, p.period_to, p.status,
           p.seed_hash::text, CASE WHEN p.status = 'drawn' THEN encode(p.seed, 'hex') END,
           p.register_hash::text, p.result_hash::text, p.entities_total, p.drawn_count,
           p.published_at, p.drawn_at
    FROM draw_plans p
    WHERE p.status IN ('published', 'drawn')
      AND (p_district IS NULL OR left(p.region_adcode, length(p_district)) = p_district
           OR left(p_district, length(p.region_adcode)) = p.region_adcode)
      AND (p_from IS NULL OR coalesce(p.period_to, (p.published_at AT TIME ZONE 'Asia/Shanghai')::date) >= p_from)
      AND (p_to IS NULL OR coalesce(p.period_from, (p.published_at AT TIME ZONE 'Asia/Shanghai')::date) <= p_to)
    ORDER BY coalesce(p.drawn_at, p.published_at) DESC, p.id DESC
    LIMIT 500
$$;

-- The result lists of drawn plans, with the inspection's state; entity's representative masked.
CREATE FUNCTION zt_public_draw_results(p_q text, p_district text, p_from date, p_to date,
                                       p_plan bigint, p_limit integer, p_offset integer)
RETURNS TABLE (plan_id bigint, plan_name text, seq integer, entity_name text, uscc text,
               district_adcode text, district_name text, category text, department text,
               legal_rep_name text, legal_rep_id text, task_status text, drawn_on date,
               total bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT r.plan_id, p.name, r.seq, e.name, e.uscc::text, r.district_adcode::text,
           zt_area_name(r.district_adcode), c.name_zh, r.department,
           zt_mask_person_name(e.legal_rep_name), zt_mask_id_number(e.legal_rep_id), t.status,
           (p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date, count(*) OVER ()
    FROM draw_results r
    JOIN draw_plans p ON p.id = r.plan_id AND p.status = 'drawn'
    JOIN entities e ON e.id = r.entity_id
    JOIN entity_categories c ON c.code = e.category
    LEFT JOIN inspection_tasks t ON t.id = r.task_id
    WHERE (p_plan IS NULL OR r.plan_id = p_plan OR r.member_plan_id = p_plan)
      AND (p_district IS NULL OR left(r.district_adcode, length(p_district)) = p_district)
      AND (p_from IS NULL OR (p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date >= p_from)
      AND (p_to IS NULL OR (p.drawn_at AT TIME ZONE 'Asia/Shanghai')::date <= p_to)
      AND (coalesce(p_q, '') = '' OR e.name ILIKE zt_contains_pattern(p_q) OR e.uscc = upper(p_q))
    ORDER BY p.drawn_at DESC, r.plan_id DESC, r.seq
    LIMIT least(greatest(coalesce(p_limit, 100), 1), 1000) OFFSET greatest(coalesce(p_offset, 0), 0)
$$;

-- Closed cases (结案) only; an open or draft case never appears.
CREATE FUNCTION zt_public_cases(p_q text, p_district text, p_from date, p_to date,
                                p_limit integer, p_offset integer)
RETURNS TABLE (case_no text, title text, entity_name text, uscc text, district_adcode text,
               district_name text, legal_rep_name text, legal_rep_id text, opened_on date, total bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT k.case_no, k.title, e.name, e.uscc::text, k.district_adcode::text,
           zt_area_name(k.district_adcode), zt_mask_person_name(e.legal_rep_name),
           zt_mask_id_number(e.legal_rep_id), k.opened_on, count(*) OVER ()
    FROM cases k JOIN entities e ON e.id = k.entity_id
    WHERE k.stage = '结案'
      AND (p_district IS NULL OR left(k.district_adcode, length(p_district)) = p_district)
      AND (p_from IS NULL OR k.opened_on >= p_from)
      AND (p_to IS NULL OR k.opened_on <= p_to)
      AND (coalesce(p_q, '') = '' OR e.name ILIKE zt_contains_pattern(p_q) OR e.uscc = upper(p_q))
    ORDER BY k.opened_on DESC, k.id DESC
    LIMIT least(greatest(coalesce(p_limit, 100), 1), 1000) OFFSET greatest(coalesce(p_offset, 0), 0)
$$;

REVOKE ALL ON FUNCTION zt_public_plans(text, date, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION zt_public_draw_results(text, text, date, date, bigint, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION zt_public_cases(text, text, date, date, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zt_public_plans(text, date, date) TO zhengtu_app;
GRANT EXECUTE ON FUNCTION zt_public_draw_results(text, text, date, date, bigint, integer, integer)
    TO zhengtu_app;
GRANT EXECUTE ON FUNCTION zt_public_cases(text, text, date, date, integer, integer) TO zhengtu_app;
