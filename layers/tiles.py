"""Vector tiles: validate the address, build the layer's one parametrised query, return bytes.

Queries are composed from the ``.sql`` templates in ``layers/sql`` with identifiers taken from the
registry (``psycopg2.sql.Identifier``) and every value bound as a parameter.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import psycopg2.extensions
from psycopg2 import sql

from geo.errors import BadRequest
from layers.filters import where_clause
from layers.registry import Layer, read_sql

MAX_ZOOM = 22
FEATURE_LIMIT = 10_000  # per street-level tile; beyond this a tile is unreadable anyway
WORLD = 40075016.68557849  # EPSG:3857 world width in metres


@dataclass(frozen=True)
class TileAddress:
    """A validated z/x/y in the Web Mercator (XYZ) scheme."""

    z: int
    x: int
    y: int

    @classmethod
    def parse(cls, z: str, x: str, y: str) -> TileAddress:
        """Parse path segments; BadRequest for non-integers or x/y outside 0..2^z-1."""
        try:
            zi, xi, yi = int(z), int(x), int(y)
        except ValueError:
            raise BadRequest(f"瓦片坐标必须是整数：{z}/{x}/{y} / tile z/x/y must be integers") from None
        if not 0 <= zi <= MAX_ZOOM:
            raise BadRequest(f"缩放级别 z={zi} 超出范围 0–{MAX_ZOOM} / zoom out of range")
        limit = 2 ** zi
        if not (0 <= xi < limit and 0 <= yi < limit):
            raise BadRequest(f"瓦片 {zi}/{xi}/{yi} 超出范围：x、y 应在 0–{limit - 1} / out of range")
        return cls(zi, xi, yi)


def column_sql(layer: Layer, name: str, alias: str = "s") -> sql.Composable:
    """A field as it travels in tiles and GeoJSON: dates and times as Beijing-time text."""
    column = sql.Identifier(alias, name)
    kind = layer.fields[name].type
    if kind == "date":
        return sql.SQL("to_char({}, 'YYYY-MM-DD') AS {}").format(column, sql.Identifier(name))
    if kind == "datetime":
        return sql.SQL("to_char({} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') AS {}").format(
            column, sql.Identifier(name))
    return sql.SQL("{} AS {}").format(column, sql.Identifier(name))


CRS_CHOICES = ("wgs84", "gcj02")
PYRAMID_CENTROID = "ST_SetSRID(ST_MakePoint(sum(sx) / sum(n), sum(sy) / sum(n)), 3857)"


def parse_crs(raw: str | None) -> str:
    """The coordinate system tiles are drawn in: WGS 84, or GCJ-02 under an Amap/Tencent base map."""
    value = (raw or "wgs84").lower()
    if value not in CRS_CHOICES:
        raise BadRequest(f"crs 只能是 {' 或 '.join(CRS_CHOICES)}：{raw!r} / unsupported crs")
    return value


def _geometry(layer: Layer, crs: str) -> sql.Composable:
    """The feature geometry in the drawing CRS (stored geometry is always WGS 84)."""
    if crs == "gcj02" and layer.gcj02_geom:
        column = sql.Identifier("s", layer.gcj02_geom)
    elif crs == "gcj02":
        column = sql.SQL("zt_wgs84_to_gcj02(s.geom)")
    else:
        column = sql.SQL("s.geom")
    return sql.SQL("ST_Simplify({}, %(tolerance)s)").format(column) if layer.simplify else column


def _detail_query(layer: Layer, filters: sql.Composable, crs: str) -> sql.Composable:
    return sql.SQL(read_sql("tile_detail.sql")).format(
        name=sql.Literal(layer.id), source=sql.Identifier(layer.source), geom=_geometry(layer, crs),
        feature_id=sql.SQL(", 'id'" if "id" in layer.fields else ""),
        columns=sql.SQL(", ").join(column_sql(layer, f) for f in layer.fields),
        tile_where=sql.SQL(layer.tile_where), filters=filters)


def tile_query(layer: Layer, tile: TileAddress, filters: Mapping[str, object] | None = None,
               crs: str = "wgs84") -> tuple[sql.Composable, dict]:
    """The SQL and parameters for one tile of ``layer`` with validated ``filters``."""
    where, params = where_clause(layer, filters or {})
    params.update({"z": tile.z, "x": tile.x, "y": tile.y, "limit": FEATURE_LIMIT,
                   "tolerance": 360.0 / 2 ** tile.z / 1024, "cell": WORLD / 2 ** tile.z / 64,
                   "margin": 0.01 if crs == "gcj02" else 0.0})
    if layer.aggregated_at(tile.z) and layer.aggregate == "pyramid":
        centroid = sql.SQL(PYRAMID_CENTROID)
        if crs == "gcj02":
            centroid = sql.SQL("ST_Transform(zt_wgs84_to_gcj02(ST_Transform({}, 4326)), 3857)").format(centroid)
        return sql.SQL(read_sql("tile_pyramid.sql")).format(filters=where, centroid=centroid), params
    if layer.aggregated_at(tile.z):
        query = sql.SQL(read_sql("tile_cluster.sql")).format(
            name=sql.Literal(layer.id), source=sql.Identifier(layer.source), geom=_geometry(layer, crs),
            style=sql.Identifier(layer.style_field), filters=where)
        return query, params
    return _detail_query(layer, where, crs), params


def get_tile(conn: psycopg2.extensions.connection, layer: Layer, tile: TileAddress,
             filters: Mapping[str, object] | None = None, crs: str = "wgs84") -> bytes:
    """The MVT bytes of one layer's tile (empty bytes when nothing is there)."""
    if not layer.minzoom <= tile.z <= layer.maxzoom:
        return b""
    query, params = tile_query(layer, tile, filters, crs)
    with conn.cursor() as cur:
        cur.execute(query, params)
        row = cur.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def etag(data: bytes) -> str:
    """A strong validator for a tile's bytes (unquoted; Flask adds the quotes)."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def tile_for(lon: float, lat: float, z: int) -> TileAddress:
    """The XYZ tile containing a WGS 84 point at zoom ``z`` (standard slippy-map formula)."""
    n = 2 ** z
    lat_rad = math.radians(max(min(lat, 85.0511), -85.0511))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(lat_rad)) / math.pi) / 2.0 * n)
    return TileAddress(z, min(max(x, 0), n - 1), min(max(y, 0), n - 1))
