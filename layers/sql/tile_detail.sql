-- Individual features of one layer for one tile: the envelope's && hits the GiST index on geom,
-- attributes come from the layer's declared fields, and at most %(limit)s features are drawn.
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326) AS env4326
)
SELECT ST_AsMVT(t, {name}, 4096, 'geom'{feature_id})
FROM (
    SELECT {columns},
           ST_AsMVTGeom(ST_Transform({geom}, 3857), b.env, 4096, 64, true) AS geom
    FROM {source} s CROSS JOIN bounds b
    WHERE s.geom && ST_Expand(b.env4326, %(margin)s) AND ({tile_where}) AND {filters}
    LIMIT %(limit)s
) t
WHERE t.geom IS NOT NULL
