-- Aggregated tiles count only what the caller may see: the pyramid is under the same policy.
ALTER TABLE entity_cells ENABLE ROW LEVEL SECURITY;
CREATE POLICY jurisdiction ON entity_cells FOR SELECT TO zhengtu_app
    USING (zt_in_region(district_adcode));
GRANT SELECT ON entity_cells TO zhengtu_app;
