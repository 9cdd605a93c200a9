"""Administrative areas: which province, city and district contain a point."""

from __future__ import annotations

import math

import psycopg2.extensions

from geo.errors import BadRequest, NotFound

LOCATE_SQL = """
SELECT d.adcode, d.name, c.adcode, c.name, p.adcode, p.name
FROM admin_area_parts part
JOIN admin_areas d ON d.level = 'district' AND d.adcode = part.adcode
LEFT JOIN admin_areas c ON c.level = 'city' AND c.adcode = d.parent_adcode
JOIN admin_areas p ON p.level = 'province' AND p.adcode = d.province_adcode
WHERE ST_Intersects(part.geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
LIMIT 1
"""


EXTENT_SQL = """
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM admin_areas WHERE level = 'province') s
"""


def loaded_extent(conn: psycopg2.extensions.connection) -> tuple[float, float, float, float] | None:
    """The WGS 84 bounds (minx, miny, maxx, maxy) of the loaded provinces, or None if empty."""
    with conn.cursor() as cur:
        cur.execute(EXTENT_SQL)
        row = cur.fetchone()
    return None if row is None or row[0] is None else tuple(float(v) for v in row)  # type: ignore


def parse_lon_lat(lon: object, lat: object) -> tuple[float, float]:
    """Validate a WGS 84 longitude/latitude pair from user input; raise BadRequest naming the field."""
    values = {}
    for field, raw, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
        if raw is None or raw == "":
            raise BadRequest(f"缺少参数 {field} / missing parameter {field}")
        try:
            value = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise BadRequest(f"参数 {field} 不是数字：{raw!r} / {field} is not a number") from None
        if not math.isfinite(value) or abs(value) > limit:
            raise BadRequest(f"参数 {field} 超出范围 ±{limit:g}：{raw!r} / {field} out of range")
        values[field] = value
    return values["lon"], values["lat"]


def locate(conn: psycopg2.extensions.connection, lon: float, lat: float) -> dict:
    """The province, city and district (adcode + name) containing a WGS 84 point."""
    with conn.cursor() as cur:
        cur.execute(LOCATE_SQL, {"lon": lon, "lat": lat})
        row = cur.fetchone()
    if row is None:
        raise NotFound(f"坐标 ({lon:.6f}, {lat:.6f}) 不在已加载的行政区范围内 / "
                       "the point is outside the loaded area")
    d_code, d_name, c_code, c_name, p_code, p_name = (v.strip() if isinstance(v, str) else v
                                                      for v in row)
    city = {"adcode": c_code, "name": c_name} if c_code else None
    return {
        "lon": lon, "lat": lat,
        "province": {"adcode": p_code, "name": p_name},
        "city": city,
        "district": {"adcode": d_code, "name": d_name},
    }
