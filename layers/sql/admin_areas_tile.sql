-- Administrative areas for one tile: provinces and cities at every zoom, districts from zoom 6.
-- Polygons are simplified to the tile's pixel size before clipping so low zooms stay small.
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326) AS env4326
)
SELECT ST_AsMVT(t, 'admin_areas', 4096, 'geom')
FROM (
    SELECT a.adcode, a.name, a.level, a.parent_adcode,
           ST_AsMVTGeom(
               ST_Transform(ST_Simplify(a.geom, %(tolerance)s), 3857), b.env, 4096, 64, true
           ) AS geom
    FROM admin_areas a, bounds b
    WHERE a.geom && b.env4326
      AND (a.level <> 'district' OR %(z)s >= 6)
) t
WHERE t.geom IS NOT NULL
