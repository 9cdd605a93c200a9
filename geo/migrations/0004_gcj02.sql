-- GCJ-02 for map overlays drawn over an Amap/Tencent base map. Storage stays WGS 84; this shifts
-- at the edge (tiles), with the same public algorithm as geo/crs.py (tests compare the two).
CREATE FUNCTION zt_wgs84_to_gcj02(g geometry) RETURNS geometry
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    a CONSTANT float8 := 6378245.0;
    ee CONSTANT float8 := 0.00669342162296594323;
    lon float8 := ST_X(g);
    lat float8 := ST_Y(g);
    x float8 := lon - 105.0;
    y float8 := lat - 35.0;
    dlat float8;
    dlon float8;
    radlat float8 := lat / 180.0 * pi();
    magic float8;
BEGIN
    IF lon < 72.004 OR lon > 137.8347 OR lat < 0.8293 OR lat > 55.8271 THEN
        RETURN g;
    END IF;
    dlat := -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(abs(x))
        + (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0
        + (20.0 * sin(y * pi()) + 40.0 * sin(y / 3.0 * pi())) * 2.0 / 3.0
        + (160.0 * sin(y / 12.0 * pi()) + 320.0 * sin(y * pi() / 30.0)) * 2.0 / 3.0;
    dlon := 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(abs(x))
        + (20.0 * sin(6.0 * x * pi()) + 20.0 * sin(2.0 * x * pi())) * 2.0 / 3.0
        + (20.0 * sin(x * pi()) + 40.0 * sin(x / 3.0 * pi())) * 2.0 / 3.0
        + (150.0 * sin(x / 12.0 * pi()) + 300.0 * sin(x / 30.0 * pi())) * 2.0 / 3.0;
    magic := 1.0 - ee * sin(radlat) ^ 2;
    dlat := (dlat * 180.0) / ((a * (1.0 - ee)) / (magic * sqrt(magic)) * pi());
    dlon := (dlon * 180.0) / (a / sqrt(magic) * cos(radlat) * pi());
    RETURN ST_SetSRID(ST_MakePoint(lon + dlon, lat + dlat), ST_SRID(g));
END
$$;

-- Boundaries as published by Amap (GCJ-02), kept beside the WGS 84 geometry for GCJ-02 base maps.
ALTER TABLE admin_areas ADD COLUMN geom_gcj02 geometry(MultiPolygon, 4326);
