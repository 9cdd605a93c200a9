-- Layer sources: one view per drawable layer, joining what popups and filters need.
-- security_invoker: the view runs with the caller's rights, so row-level security still applies
-- (a plain view would run as its owner and leak every region).
CREATE VIEW layer_entities WITH (security_invoker = true) AS
SELECT e.id, e.name, e.uscc, e.category, c.name_zh AS category_name, e.risk_class, e.address,
       e.district_adcode, e.geom
FROM entities e JOIN entity_categories c ON c.code = e.category;

CREATE VIEW layer_tasks WITH (security_invoker = true) AS
SELECT t.id, t.kind, t.status, t.due_date, e.name AS entity_name, e.id AS entity_id,
       t.district_adcode, e.geom
FROM inspection_tasks t JOIN entities e ON e.id = t.entity_id;

CREATE VIEW layer_cases WITH (security_invoker = true) AS
SELECT c.id, c.case_no, c.title, c.stage, c.opened_on, e.name AS entity_name, e.id AS entity_id,
       c.district_adcode, e.geom
FROM cases c JOIN entities e ON e.id = c.entity_id;

CREATE VIEW layer_events WITH (security_invoker = true) AS
SELECT id, category, description, source, status, reported_at, district_adcode, geom
FROM city_events;

GRANT SELECT ON layer_entities, layer_tasks, layer_cases, layer_events TO zhengtu_app;
CREATE INDEX city_events_reported_idx ON city_events (reported_at);
