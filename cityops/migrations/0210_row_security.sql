-- Jurisdiction in the database for city events.
ALTER TABLE city_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY jurisdiction ON city_events TO zhengtu_app
    USING (zt_in_region(district_adcode)) WITH CHECK (zt_in_region(district_adcode));
GRANT SELECT, INSERT, UPDATE ON city_events TO zhengtu_app;
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON city_events
    FOR EACH ROW EXECUTE FUNCTION zt_audit_change();
