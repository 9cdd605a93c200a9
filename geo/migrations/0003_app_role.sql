-- The role the web app runs as. It owns nothing, cannot bypass row-level security, and sees rows
-- only through the jurisdiction policies below, driven by per-transaction settings:
--   zhengtu.region  adcode prefix of the caller ('44', '4401', '440106'); empty/unset = nothing
--   zhengtu.user    user name, for audit;  zhengtu.role  role name
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'zhengtu_app') THEN
        CREATE ROLE zhengtu_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
END
$$;
GRANT zhengtu_app TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO zhengtu_app;

CREATE FUNCTION zt_region() RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('zhengtu.region', true), '')
$$;

-- True when an adcode lies inside the caller's region. No region set -> false (deny by default).
CREATE FUNCTION zt_in_region(code text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT zt_region() IS NOT NULL AND left(code, length(zt_region())) = zt_region()
$$;

GRANT SELECT ON admin_areas, admin_area_parts, zhengtu_meta, schema_migrations TO zhengtu_app;
