-- Importing under row-level security: a USCC already registered in another jurisdiction cannot be
-- updated by this caller (the upsert's row is invisible to them, and PostgreSQL refuses the write,
-- failing the whole batch). This function tells the importer which codes those are, so each such
-- row is reported with its reason instead. It reveals only that a code is registered elsewhere — the
-- USCC register is public information — never the row.
CREATE FUNCTION zt_uscc_elsewhere(codes text[]) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT e.uscc::text FROM entities e
    WHERE e.uscc = ANY (codes::char(18)[]) AND NOT zt_in_region(e.district_adcode::text)
$$;
REVOKE ALL ON FUNCTION zt_uscc_elsewhere(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zt_uscc_elsewhere(text[]) TO zhengtu_app;
