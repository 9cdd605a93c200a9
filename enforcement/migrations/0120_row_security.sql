-- Jurisdiction in the database: the app role sees and changes only rows of its region.
ALTER TABLE inspection_tasks ADD COLUMN district_adcode char(6);
UPDATE inspection_tasks t SET district_adcode = e.district_adcode FROM entities e
WHERE e.id = t.entity_id;
ALTER TABLE inspection_tasks ALTER COLUMN district_adcode SET NOT NULL;
CREATE INDEX inspection_tasks_district_idx ON inspection_tasks (district_adcode);

ALTER TABLE entities ENABLE ROW LEVEL SECURITY;
ALTER TABLE officers ENABLE ROW LEVEL SECURITY;
ALTER TABLE inspection_tasks ENABLE ROW LEVEL SECURITY;
ALTER TABLE cases ENABLE ROW LEVEL SECURITY;

CREATE POLICY jurisdiction ON entities TO zhengtu_app
    USING (zt_in_region(district_adcode)) WITH CHECK (zt_in_region(district_adcode));
CREATE POLICY jurisdiction ON officers TO zhengtu_app
    USING (zt_in_region(region_adcode)) WITH CHECK (zt_in_region(region_adcode));
CREATE POLICY jurisdiction ON inspection_tasks TO zhengtu_app
    USING (zt_in_region(district_adcode)) WITH CHECK (zt_in_region(district_adcode));
CREATE POLICY jurisdiction ON cases TO zhengtu_app
    USING (zt_in_region(district_adcode)) WITH CHECK (zt_in_region(district_adcode));

GRANT SELECT ON entity_categories TO zhengtu_app;
GRANT SELECT, INSERT, UPDATE ON entities, officers, inspection_tasks, cases TO zhengtu_app;

CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON entities
    FOR EACH ROW EXECUTE FUNCTION zt_audit_change();
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON officers
    FOR EACH ROW EXECUTE FUNCTION zt_audit_change();
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON inspection_tasks
    FOR EACH ROW EXECUTE FUNCTION zt_audit_change();
CREATE TRIGGER audit_change AFTER INSERT OR UPDATE OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION zt_audit_change();
