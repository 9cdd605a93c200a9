-- The spatial extent announced for every collection: the bounding box of the loaded provinces.
-- Boundaries are public, so this reveals nothing about any region's rows, and it is one row.
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (
    SELECT ST_Extent(geom) AS e
    FROM admin_areas
    WHERE level = 'province'
) x
