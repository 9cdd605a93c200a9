"""Regions a KPI can be asked for: province (2 digits), city (4), district (6), unit grid (its code).

Administrative areas are read from ``admin_areas``; unit grids from ``unit_grids`` once the operations
centre installs it. Jurisdiction: the requested region must lie inside the caller's adcode prefix
(403 otherwise); rows outside it are also hidden by row-level security.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg2.extensions

from geo.errors import BadRequest, Forbidden, NotFound

ADCODE = re.compile(r"^\d{2}(\d{2}){0,2}$")
GRID_CODE = re.compile(r"^[0-9A-Za-z_-]{7,40}$")
LEVELS = {2: "province", 4: "city", 6: "district"}
UNGRIDDED = "未划入网格"

AREA_SQL = "SELECT name FROM admin_areas WHERE level = %s AND adcode = rpad(%s, 6, '0')"
GRID_SQL = "SELECT code, district_adcode, code FROM unit_grids WHERE code = %s"
CHILD_CITIES_SQL = """
SELECT left(adcode, 4), name FROM admin_areas WHERE level = 'city' AND left(adcode, 2) = %s ORDER BY adcode
"""
CHILD_DISTRICTS_SQL = """
SELECT adcode, name FROM admin_areas WHERE level = 'district' AND left(adcode, 4) = %s ORDER BY adcode
"""
GEOJSON_AREAS_SQL = """
SELECT {key}, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, %(tol)s), 4)
FROM admin_areas WHERE level = %(level)s AND left(adcode, %(plen)s) = %(prefix)s ORDER BY adcode
"""
OUTLINE_SQL = """
SELECT ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, %(tol)s), 5)
FROM admin_areas WHERE level = %(level)s AND adcode = rpad(%(code)s, 6, '0')
"""
GEOJSON_GRIDS_SQL = """
SELECT code, code, ST_AsGeoJSON(geom, 6)
FROM unit_grids WHERE district_adcode = %(prefix)s AND code = ANY(%(codes)s) ORDER BY code
"""


@dataclass(frozen=True)
class Region:
    """A resolved region: ``code`` as asked, ``prefix`` of district adcodes it covers, maybe a grid."""

    code: str
    level: str  # province | city | district | grid
    name: str
    prefix: str  # district-adcode prefix (a grid's district for a grid)
    grid: str | None = None

    @property
    def child_level(self) -> str | None:
        """The level of this region's children (None for a grid)."""
        return {"province": "city", "city": "district", "district": "grid"}.get(self.level)


def has_table(conn: psycopg2.extensions.connection, name: str) -> bool:
    """Whether a table exists (unit grids arrive with the operations centre)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        return bool(cur.fetchone()[0])


def check_jurisdiction(caller_region: str, prefix: str, code: str) -> None:
    """A region must lie inside the caller's region (a prefix of its adcode)."""
    if not caller_region or not prefix.startswith(caller_region):
        raise Forbidden(f"区域 {code} 不在您的辖区（{caller_region or '无'}）内 / region outside your jurisdiction")


def resolve(conn: psycopg2.extensions.connection, raw: str | None, caller_region: str) -> Region:
    """Validate and resolve ``raw`` (default: the caller's region); 400 bad, 404 unknown, 403 outside."""
    code = (raw or caller_region or "").strip()
    if ADCODE.match(code):
        level = LEVELS[len(code)]
        # Dongguan/Zhongshan: the "district" shares the city's adcode (441900).
        with conn.cursor() as cur:
            cur.execute(AREA_SQL, (level, code))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"未知行政区划 {code} / unknown region")
        check_jurisdiction(caller_region, code, code)
        return Region(code, level, row[0], code)
    if GRID_CODE.match(code):
        if not has_table(conn, "unit_grids"):
            raise NotFound(f"未知网格 {code}（尚未配置单元网格）/ unknown grid")
        with conn.cursor() as cur:
            cur.execute(GRID_SQL, (code,))
            row = cur.fetchone()
        if row is None:
            raise NotFound(f"未知网格 {code} / unknown grid")
        district = row[1].strip()
        check_jurisdiction(caller_region, district, code)
        return Region(code, "grid", row[2], district, grid=code)
    raise BadRequest(f"区域参数无效 {code!r}：应为 2、4、6 位行政区划代码或网格编码 / bad region")


def children(conn: psycopg2.extensions.connection, region: Region) -> list[tuple[str, str]]:
    """(code, name) of the next level down; grids only where ``unit_grids`` exists."""
    with conn.cursor() as cur:
        if region.level == "province":
            cur.execute(CHILD_CITIES_SQL, (region.prefix,))
        elif region.level == "city":
            cur.execute(CHILD_DISTRICTS_SQL, (region.prefix,))
        else:  # a district's grids are listed by compute (only those with records)
            return []
        return [(c.strip(), n) for c, n in cur.fetchall()]


def parent_chain(conn: psycopg2.extensions.connection, region: Region) -> list[tuple[str, str]]:
    """(code, name) from the province down to ``region`` (for breadcrumbs)."""
    chain: list[tuple[str, str]] = []
    for n in (2, 4, 6):
        if len(region.prefix) >= n:
            with conn.cursor() as cur:
                cur.execute(AREA_SQL, (LEVELS[n], region.prefix[:n]))
                row = cur.fetchone()
            if row:
                chain.append((region.prefix[:n], row[0]))
    if region.grid:
        chain.append((region.grid, region.name))
    return chain


def child_geojson(conn: psycopg2.extensions.connection, region: Region, grids: list[str] = ()) -> dict:
    """A FeatureCollection of the children's shapes (id = child code), simplified for the page.

    A district's children are the unit grids named in ``grids`` (those with records).
    """
    import json

    with conn.cursor() as cur:
        if region.level == "province":
            cur.execute(GEOJSON_AREAS_SQL.format(key="left(adcode, 4)"),
                        {"level": "city", "plen": 2, "prefix": region.prefix, "tol": 0.008})
        elif region.level == "city":
            cur.execute(GEOJSON_AREAS_SQL.format(key="adcode"),
                        {"level": "district", "plen": 4, "prefix": region.prefix, "tol": 0.001})
        elif region.level == "district" and has_table(conn, "unit_grids"):
            cur.execute(GEOJSON_GRIDS_SQL, {"prefix": region.prefix, "codes": list(grids)})
        else:
            return {"type": "FeatureCollection", "features": []}
        rows = cur.fetchall()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": code.strip(), "properties": {"code": code.strip(), "name": name},
         "geometry": json.loads(geom)} for code, name, geom in rows if geom]}


def outline(conn: psycopg2.extensions.connection, region: Region) -> dict | None:
    """The region's own boundary (a grid's: its district), as context under the children."""
    import json

    code = region.prefix
    level = LEVELS[len(code)]
    tol = {"province": 0.008, "city": 0.001, "district": 0.0003}[level]
    with conn.cursor() as cur:
        cur.execute(OUTLINE_SQL, {"level": level, "code": code, "tol": tol})
        row = cur.fetchone()
    return json.loads(row[0]) if row and row[0] else None
