-- Administrative areas (province / city / district) in WGS 84, the base of the one map.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE admin_areas (
    adcode          char(6) NOT NULL,
    level           text    NOT NULL CHECK (level IN ('province', 'city', 'district')),
    name            text    NOT NULL,
    parent_adcode   char(6),
    province_adcode char(6) NOT NULL,
    geom            geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    area_km2        double precision NOT NULL,
    PRIMARY KEY (level, adcode)
);
-- Dongguan and Zhongshan have no districts: their district row shares the city's adcode.
CREATE INDEX admin_areas_geom_gix ON admin_areas USING gist (geom);
CREATE INDEX admin_areas_adcode_idx ON admin_areas (adcode);

-- Small pieces of each district polygon, so that point-in-district tests stay fast.
CREATE TABLE admin_area_parts (
    adcode char(6) NOT NULL,
    level  text    NOT NULL,
    geom   geometry(Polygon, 4326) NOT NULL
);
CREATE INDEX admin_area_parts_geom_gix ON admin_area_parts USING gist (geom);
