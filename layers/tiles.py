"""Vector tiles: validate the address, run the layer's one parametrised PostGIS query, return bytes."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import psycopg2.extensions

from geo.errors import BadRequest
from layers.registry import Layer

MAX_ZOOM = 22
FEATURE_LIMIT = 10_000  # per street-level tile; beyond this a tile is unreadable anyway


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


def get_tile(conn: psycopg2.extensions.connection, layer: Layer, tile: TileAddress) -> bytes:
    """The MVT bytes of one layer's tile (empty bytes when nothing is there)."""
    if not layer.minzoom <= tile.z <= layer.maxzoom:
        return b""
    params = {"z": tile.z, "x": tile.x, "y": tile.y, "limit": FEATURE_LIMIT,
              "tolerance": 360.0 / 2 ** tile.z / 1024}
    with conn.cursor() as cur:
        cur.execute(layer.sql_for_zoom(tile.z), params)
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
