-- Map export: a layer's features in the view as one GeoJSON FeatureCollection, built here rather than
-- row by row in Python. Polygons are clipped to a margin around the view and simplified to about half
-- a screen pixel, so a province outline does not weigh megabytes. Features whose style value comes
-- first in the legend are drawn last (on top): province lines over district lines.
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
           'type', 'Feature', 'id', r.zt_n, 'geometry', ST_AsGeoJSON(r.zt_geom, %(digits)s)::json,
           'properties', json_build_object({properties})) ORDER BY r.zt_n)
           FILTER (WHERE NOT ST_IsEmpty(r.zt_geom)), '[]'::json))
FROM (
    SELECT {columns}, {geom} AS zt_geom, row_number() OVER (ORDER BY {order}) AS zt_n
    FROM {source} s
    WHERE s.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
      AND ({layer_where}) AND {filters}
    ORDER BY {order}
    LIMIT %(limit)s
) AS r
