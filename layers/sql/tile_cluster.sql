-- A point layer counted on the fly in 64 x 64 cells per tile (for layers of up to ~100k rows;
-- millions need the precomputed pyramid). Each feature: a cell's centroid, count, commonest value.
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326) AS env4326
), points AS (
    SELECT ST_Transform({geom}, 3857) AS p, s.{style} AS style
    FROM {source} s CROSS JOIN bounds b
    WHERE s.geom && ST_Expand(b.env4326, %(margin)s) AND {filters}
)
SELECT ST_AsMVT(t, {name}, 4096, 'geom')
FROM (
    SELECT count(*)::integer AS count, mode() WITHIN GROUP (ORDER BY style) AS {style},
           ST_AsMVTGeom(ST_Centroid(ST_Collect(p)), (SELECT env FROM bounds), 4096, 64, true) AS geom
    FROM points
    GROUP BY ST_SnapToGrid(p, %(cell)s)
) t
WHERE t.geom IS NOT NULL
