-- Map export: how many of a layer's features lie in the view, counting no further than %(probe)s
-- (cap + 1), so deciding "draw each feature or aggregate" costs little even with a million rows.
-- Runs as the caller (security_invoker views, row-level security): other regions are not counted.
SELECT count(*) FROM (
    SELECT 1 FROM {source} s
    WHERE s.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
      AND ({layer_where}) AND {filters}
    LIMIT %(probe)s
) AS c
