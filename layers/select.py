"""Select what lies inside a drawn polygon (or circle): counts by category and the features.

Geometry comes from the browser as GeoJSON: it is validated here (type, coordinates, validity,
size) before it reaches SQL as a bound parameter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import psycopg2.extensions
import shapely
from psycopg2 import sql
from shapely.geometry import shape

from geo.crs import gcj02_to_wgs84, transform_geometry
from geo.errors import BadRequest
from layers.filters import where_clause
from layers.registry import Layer
from layers.tiles import column_sql

MAX_VERTICES = 5000
MAX_AREA_DEG2 = 25.0  # about a whole province; larger selections are not what this tool is for

COUNTS = """
SELECT s.{style}, count(*) FROM {source} s
WHERE ST_Intersects(s.geom, ST_GeomFromGeoJSON(%(area)s)) AND {filters}
GROUP BY 1 ORDER BY 2 DESC
"""
ROWS = """
SELECT {columns}, ST_X(ST_PointOnSurface(s.geom)) AS lon, ST_Y(ST_PointOnSurface(s.geom)) AS lat
FROM {source} s
WHERE ST_Intersects(s.geom, ST_GeomFromGeoJSON(%(area)s)) AND {filters}
ORDER BY s.id LIMIT %(limit)s
"""


def parse_area(geojson: object) -> str:
    """A validated WGS 84 polygon as GeoJSON text, or BadRequest saying what is wrong.

    A polygon drawn over a GCJ-02 base map arrives with ``"zt_crs": "gcj02"`` and is converted back
    to WGS 84 here, so selections always query stored (WGS 84) geometry.
    """
    try:
        data = json.loads(geojson) if isinstance(geojson, str) else geojson
        crs = data.get("zt_crs", "wgs84") if isinstance(data, dict) else "wgs84"
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = data.get("geometry")
        geom = shape(data)
        if crs == "gcj02":
            geom = transform_geometry(geom, gcj02_to_wgs84)
    except (ValueError, TypeError, AttributeError, KeyError, shapely.errors.GEOSException):
        raise BadRequest("选区不是有效的 GeoJSON 几何 / selection is not valid GeoJSON") from None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise BadRequest(f"选区应为多边形，收到 {geom.geom_type} / selection must be a polygon")
    if shapely.get_num_coordinates(geom) > MAX_VERTICES:
        raise BadRequest(f"选区顶点过多（>{MAX_VERTICES}）/ too many vertices")
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise BadRequest("选区坐标超出经纬度范围（应为 WGS 84 经度、纬度）/ coordinates out of range")
    if not geom.is_valid:
        raise BadRequest(f"选区多边形无效：{shapely.is_valid_reason(geom)} / invalid polygon")
    if geom.area > MAX_AREA_DEG2:
        raise BadRequest("选区过大，请缩小范围 / selection too large")
    return json.dumps(shapely.geometry.mapping(geom))


def select(conn: psycopg2.extensions.connection, layer: Layer, area: str,
           filters: Mapping[str, object] | None = None, limit: int = 500) -> dict:
    """Counts by the layer's style field and up to ``limit`` features inside ``area``."""
    where, params = where_clause(layer, filters or {})
    params.update({"area": area, "limit": limit})
    parts = {"source": sql.Identifier(layer.source), "filters": where,
             "style": sql.Identifier(layer.style_field or "id"),
             "columns": sql.SQL(", ").join(column_sql(layer, f) for f in layer.fields)}
    with conn.cursor() as cur:
        cur.execute(sql.SQL(COUNTS).format(**parts), params)
        counts = [{"value": v, "count": n} for v, n in cur.fetchall()]
        cur.execute(sql.SQL(ROWS).format(**parts), params)
        cols = [c.name for c in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    labels = {e.value: e.label_zh for e in layer.legend}
    for c in counts:
        c["label"] = labels.get(c["value"], c["value"])
    return {"layer": layer.id, "total": sum(c["count"] for c in counts), "counts": counts,
            "rows": rows, "truncated": sum(c["count"] for c in counts) > len(rows)}
