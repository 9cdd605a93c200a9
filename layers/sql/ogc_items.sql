-- One page of a layer's features as a GeoJSON "features" array, built inside PostgreSQL.
-- {where} holds the layer's filters, the bbox (&& on the GiST index, then ST_Intersects), the
-- datetime interval and, for a single feature, its key. Rows are ordered by the layer's key so
-- offset paging is stable. Coordinates are the storage CRS, WGS 84 lon/lat, 7 decimals (~1 cm);
-- properties are the layer's declared fields, dates as Beijing-time text (see column_sql).
SELECT coalesce(json_agg(json_build_object(
           'type', 'Feature',
           'id', t.feature_id,
           'geometry', ST_AsGeoJSON(t.geom, 7)::json,
           'properties', json_build_object({properties})
       ) ORDER BY {page_order}), '[]'::json) AS features,
       count(*) AS returned
FROM (
    SELECT {feature_id} AS feature_id, s.geom, {columns}
    FROM {source} s
    WHERE {where}
    ORDER BY {source_order}
    LIMIT %(limit)s OFFSET %(offset)s
) t
