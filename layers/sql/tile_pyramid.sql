-- Entities counted per map cell for one low-zoom tile, read from the entity_cells pyramid
-- (64 x 64 cells per tile, so the tile (z, x, y) owns cells x*64 .. x*64+63 and likewise in y).
-- Filters are dimensions of the pyramid; row-level security trims it to the caller's region.
-- Over a GCJ-02 base map, cells near a tile's edge may fall in the neighbour tile (offset < 700 m).
SELECT ST_AsMVT(t, 'entities', 4096, 'geom')
FROM (
    SELECT sum(n)::integer AS count,
           (array_agg(category ORDER BY n DESC))[1] AS category,
           ST_AsMVTGeom({centroid}, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64, true) AS geom
    FROM entity_cells s
    WHERE z = %(z)s
      AND cx BETWEEN %(x)s * 64 AND %(x)s * 64 + 63
      AND cy BETWEEN %(y)s * 64 AND %(y)s * 64 + 63
      AND {filters}
    GROUP BY cx, cy
) t
WHERE t.geom IS NOT NULL
