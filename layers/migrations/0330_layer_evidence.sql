-- Where evidence was captured (the phone's fix), for the evidence-locations layer.
CREATE VIEW layer_evidence WITH (security_invoker = true) AS
SELECT v.id, v.kind, v.media_type, v.received_at, v.username, v.task_id, v.case_id,
       array_to_string(v.flags, ',') AS flags, v.district_adcode, v.geom
FROM evidence v
WHERE v.geom IS NOT NULL;
GRANT SELECT ON layer_evidence TO zhengtu_app;
CREATE INDEX evidence_geom_gix ON evidence USING gist (geom);
