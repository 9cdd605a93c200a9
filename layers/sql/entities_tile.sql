-- Individual regulated entities for one street-level tile, with the attributes a popup shows.
WITH bounds AS (
    SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env,
           ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326) AS env4326
)
SELECT ST_AsMVT(t, 'entities', 4096, 'geom', 'id')
FROM (
    SELECT e.id, e.name, e.uscc, e.category, c.name_zh AS category_name, e.risk_class,
           e.address, e.district_adcode, 1 AS count,
           ST_AsMVTGeom(ST_Transform(e.geom, 3857), b.env, 4096, 64, true) AS geom
    FROM entities e
    JOIN entity_categories c ON c.code = e.category
    CROSS JOIN bounds b
    WHERE e.geom && b.env4326
    LIMIT %(limit)s
) t
WHERE t.geom IS NOT NULL
