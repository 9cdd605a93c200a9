"""Unit grids (单元网格): ~100 m cells coded by district, generated in PostGIS and stored.

The cells are squares of a CGCS2000 3-degree Gauss-Krüger projection (true metres; Guangzhou is in
the zone of 114°E, EPSG:4547) made set-based with ``ST_SquareGrid`` over each district and clipped to
it where the district boundary crosses a cell, so a cell never spans two districts. A cell's code is
the district adcode, its row and its column counted from the city's south-west corner (four digits
each): ``440106`` + ``0731`` + ``0412``. ``grid_specs`` keeps the origin, so the cell of a point is
arithmetic (``zt_grid_code`` in SQL) rather than a polygon search. Guangzhou at 100 m is ~750,000
cells; generating them takes seconds (README, Performance).
"""

from __future__ import annotations

import time

import psycopg2.extensions

MAX_INDEX = 9999  # four digits for row and column
CITY_EXTENT = """
SELECT ST_X(ST_Centroid(geom)), ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
FROM admin_areas a, LATERAL ST_Transform(a.geom, %(srid)s) t, LATERAL Box2D(t) b
WHERE a.level = 'city' AND a.adcode = %(city)s
"""
CITY_CENTROID = "SELECT ST_X(ST_Centroid(geom)) FROM admin_areas WHERE level = 'city' AND adcode = %s"
OTHER_CITIES = "SELECT EXISTS (SELECT 1 FROM unit_grids WHERE left(district_adcode, 4) <> left(%(city)s, 4))"
DELETE_CELLS = "DELETE FROM unit_grids WHERE left(district_adcode, 4) = left(%(city)s, 4)"
# Cells of each subdivided district part; interior cells kept whole, edge cells clipped; a cell cut
# by two parts of the same district is put together again.
INSERT_CELLS = """
INSERT INTO unit_grids (code, district_adcode, geom, area_m2)
WITH parts AS (
    SELECT a.adcode, ST_Subdivide(ST_Transform(a.geom, %(srid)s), 128) AS g
    FROM admin_areas a
    WHERE a.level = 'district' AND left(a.adcode, 4) = left(%(city)s, 4)
), pieces AS MATERIALIZED (
    SELECT p.adcode, s.i, s.j,
           CASE WHEN ST_Within(s.geom, p.g) THEN s.geom
                ELSE ST_CollectionExtract(ST_Intersection(s.geom, p.g), 3) END AS piece
    FROM parts p CROSS JOIN LATERAL ST_SquareGrid(%(size)s, p.g) s
    WHERE ST_Intersects(s.geom, p.g)
), cells AS (
    SELECT adcode, i, j,
           CASE WHEN count(*) = 1 THEN (array_agg(piece))[1]
                ELSE ST_UnaryUnion(ST_Collect(piece)) END AS g
    FROM pieces WHERE NOT ST_IsEmpty(piece)
    GROUP BY adcode, i, j
)
SELECT adcode || lpad((j - %(row0)s)::text, 4, '0') || lpad((i - %(col0)s)::text, 4, '0'),
       adcode, ST_Multi(ST_Transform(g, 4326)), ST_Area(g)
FROM cells WHERE ST_Area(g) > 0
"""
# The grouping sorts ~750,000 clipped cells: in memory rather than a 1 GB spill; no JIT warm-up.
SESSION_SETTINGS = "SET LOCAL work_mem = '256MB'; SET LOCAL jit = off"
DROP_INDEX = "DROP INDEX IF EXISTS unit_grids_geom_gix"
CREATE_INDEX = "CREATE INDEX unit_grids_geom_gix ON unit_grids USING gist (geom)"
UPSERT_SPEC = """
INSERT INTO grid_specs (city_adcode, srid, size_m, col0, row0, cells)
VALUES (%(city6)s, %(srid)s, %(size)s, %(col0)s, %(row0)s, %(cells)s)
ON CONFLICT (city_adcode) DO UPDATE SET srid = EXCLUDED.srid, size_m = EXCLUDED.size_m,
    col0 = EXCLUDED.col0, row0 = EXCLUDED.row0, cells = EXCLUDED.cells, built_at = now()
"""
SELECT_SPEC = "SELECT srid, size_m, cells FROM grid_specs WHERE city_adcode = %s"
# Set-based: one UPDATE per table after a bulk load (the function is a PK lookup per row).
ASSIGN_ENTITIES = """
UPDATE entities SET grid_code = zt_grid_code(district_adcode, geom)
WHERE left(district_adcode, 4) = left(%(city)s, 4)
  AND grid_code IS DISTINCT FROM zt_grid_code(district_adcode, geom)
"""
ASSIGN_EVENTS = """
UPDATE city_events SET grid_code = zt_grid_code(district_adcode, geom)
WHERE left(district_adcode, 4) = left(%(city)s, 4) AND grid_code IS NULL
"""
ASSIGN_SENSORS = """
UPDATE sensors SET grid_code = zt_grid_code(district_adcode, geom)
WHERE left(district_adcode, 4) = left(%(city)s, 4) AND grid_code IS NULL
"""


def gk_srid(lon: float) -> int:
    """The CGCS2000 3-degree Gauss-Krüger EPSG code (no zone prefix) whose meridian is nearest."""
    meridian = round(lon / 3) * 3
    if not 75 <= meridian <= 135:
        raise ValueError(f"经度 {lon} 不在中国 3° 带范围内 / longitude outside China's zones")
    return 4534 + (meridian - 75) // 3


def _city6(city_adcode: str) -> str:
    if not (city_adcode.isdigit() and len(city_adcode) in (4, 6)):
        raise ValueError(f"城市代码无效 {city_adcode!r}：应为 4 或 6 位，如 4401 / bad city adcode")
    return city_adcode[:4] + "00"


def generate_grids(conn: psycopg2.extensions.connection, city_adcode: str = "4401",
                   size_m: float = 100) -> dict:
    """(Re)build the city's unit grid and assign entities, events and sensors to it; one transaction."""
    city6 = _city6(city_adcode)
    if not 10 <= size_m <= 10_000:
        raise ValueError("网格边长应在 10–10000 米之间 / size_m must be 10–10000")
    started = time.perf_counter()
    with conn, conn.cursor() as cur:
        cur.execute(CITY_CENTROID, (city6,))
        row = cur.fetchone()
        if row is None:
            raise ValueError(f"未加载城市 {city6} 的边界 / city {city6} has no boundary loaded")
        srid = gk_srid(row[0])
        cur.execute(CITY_EXTENT, {"srid": srid, "city": city6})
        _, xmin, ymin, xmax, ymax = cur.fetchone()
        col0, row0 = int(xmin // size_m), int(ymin // size_m)
        if max(int(xmax // size_m) - col0, int(ymax // size_m) - row0) > MAX_INDEX:
            raise ValueError("城市范围超出四位行列号 / the city is too large for this cell size")
        params = {"city": city6, "city6": city6, "srid": srid, "size": float(size_m), "col0": col0,
                  "row0": row0}
        cur.execute("SELECT set_config('zhengtu.bulk', 'on', true)")
        cur.execute(SESSION_SETTINGS)
        cur.execute(DROP_INDEX)  # building the index once afterwards is several times faster
        cur.execute(OTHER_CITIES, params)
        cur.execute(DELETE_CELLS if cur.fetchone()[0] else "TRUNCATE unit_grids", params)
        cur.execute(INSERT_CELLS, params)
        cells = cur.rowcount
        cur.execute(CREATE_INDEX)
        cur.execute(UPSERT_SPEC, {**params, "cells": cells})
        generated = time.perf_counter() - started
        cur.execute("ANALYZE unit_grids")
        assigned = assign_cells(cur, city6, refresh=True)
    return {"city": city6, "srid": srid, "size_m": float(size_m), "cells": cells,
            "seconds_generate": round(generated, 2),
            "seconds_total": round(time.perf_counter() - started, 2), **assigned}


def assign_cells(cur: psycopg2.extensions.cursor, city_adcode: str, refresh: bool = False) -> dict:
    """Set ``grid_code`` on the city's entities, events and sensors (set-based, after bulk loads)."""
    params = {"city": _city6(city_adcode)}
    out = {}
    if refresh:
        cur.execute("UPDATE city_events SET grid_code = NULL "
                    "WHERE left(district_adcode, 4) = left(%(city)s, 4)", params)
        cur.execute("UPDATE sensors SET grid_code = NULL "
                    "WHERE left(district_adcode, 4) = left(%(city)s, 4)", params)
    for name, query in (("entities", ASSIGN_ENTITIES), ("events", ASSIGN_EVENTS),
                        ("sensors", ASSIGN_SENSORS)):
        cur.execute(query, params)
        out[f"assigned_{name}"] = cur.rowcount
    return out


def grid_spec(conn: psycopg2.extensions.connection, city_adcode: str) -> dict | None:
    """The stored grid of a city (srid, size, cells) or None."""
    with conn.cursor() as cur:
        cur.execute(SELECT_SPEC, (_city6(city_adcode),))
        row = cur.fetchone()
    return None if row is None else {"srid": row[0], "size_m": row[1], "cells": row[2]}
