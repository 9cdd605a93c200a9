-- Map export: a point layer with more features in the view than an HTML map can carry, as counts per
-- grid cell (ST_SnapToGrid, %(cell)s degrees), each placed at the mean position of its points and
-- carrying its counts by the layer's style value. Second column: the total over all cells.
WITH binned AS (
    SELECT ST_SnapToGrid(s.geom, %(cell)s) AS cell, coalesce(s.{style}::text, '') AS value,
           count(*) AS n, sum(ST_X(s.geom)) AS sx, sum(ST_Y(s.geom)) AS sy
    FROM {source} s
    WHERE s.geom && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
      AND ({layer_where}) AND {filters}
    GROUP BY 1, 2
), cells AS (
    SELECT row_number() OVER (ORDER BY sum(n) DESC, cell) AS id, sum(n)::bigint AS count,
           sum(sx) / sum(n) AS lon, sum(sy) / sum(n) AS lat,
           json_object_agg(value, n ORDER BY n DESC, value) AS by_value
    FROM binned
    GROUP BY cell
)
SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
           'type', 'Feature', 'id', c.id,
           'geometry', json_build_object('type', 'Point', 'coordinates',
                                         json_build_array(round(c.lon::numeric, 6), round(c.lat::numeric, 6))),
           'properties', json_build_object('count', c.count, 'by', c.by_value)) ORDER BY c.id), '[]'::json)),
       coalesce(sum(c.count), 0)::bigint
FROM cells c
