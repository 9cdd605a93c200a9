"""A small static map of a site as PNG bytes: the district outline with the entity, and a close-up.

Drawn with Pillow from PostGIS geometry, no tiles and no network, so documents and the case page
work offline. Longitudes are scaled by cos(latitude) (equirectangular): at these sizes that is exact
enough for a location sketch, which is all it claims to be.
"""

from __future__ import annotations

import io
import json
import math
from functools import lru_cache

import psycopg2.extensions
from PIL import Image, ImageDraw, ImageFont

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_INDEX = 2  # Noto Sans CJK SC inside the collection (JP, KR, SC, TC, HK)
CLOSE_UP_M = 400  # half-width of the close-up panel
SITE_SQL = """
SELECT ST_X(e.geom), ST_Y(e.geom), e.name, d.name,
       ST_AsGeoJSON(ST_SimplifyPreserveTopology(d.geom, 0.0008), 6)
FROM entities e
LEFT JOIN admin_areas d ON d.level = 'district' AND d.adcode = e.district_adcode
WHERE e.id = %s
"""
NEIGHBOURS_SQL = """
SELECT ST_X(geom), ST_Y(geom) FROM entities
WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND id <> %s LIMIT 400
"""
BLUE, RED, GREY, INK, FILL = (30, 90, 160), (200, 30, 30), (150, 150, 150), (40, 40, 40), (232, 240, 250)


@lru_cache(maxsize=4)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The CJK font at ``size`` px (Pillow's default if the font package is missing)."""
    try:
        return ImageFont.truetype(CJK_FONT, size, index=CJK_INDEX)
    except OSError:
        return ImageFont.load_default()


def _rings(geojson: str | None) -> list[list[tuple[float, float]]]:
    if not geojson:
        return []
    geom = json.loads(geojson)
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return [[(x, y) for x, y in ring] for poly in polys for ring in poly]


class _Frame:
    """Maps lon/lat into a panel of ``w``×``h`` pixels at offset ``ox`` around a bounding box."""

    def __init__(self, box: tuple[float, float, float, float], ox: int, w: int, h: int, pad: int = 14) -> None:
        x0, y0, x1, y1 = box
        self.k = math.cos(math.radians((y0 + y1) / 2))
        span_x, span_y = max((x1 - x0) * self.k, 1e-9), max(y1 - y0, 1e-9)
        self.s = min((w - 2 * pad) / span_x, (h - 2 * pad) / span_y)
        self.cx, self.cy = (x0 + x1) / 2, (y0 + y1) / 2
        self.ox, self.w, self.h = ox, w, h

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return (self.ox + self.w / 2 + (x - self.cx) * self.k * self.s, self.h / 2 - (y - self.cy) * self.s)

    def metres_per_px(self) -> float:
        return 111_320 / self.s


def _scale_bar(draw: ImageDraw.ImageDraw, frame: _Frame, x: int, y: int) -> None:
    mpp = frame.metres_per_px()
    target = mpp * 80
    nice = max(v for v in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000) if v <= max(target, 10))
    px = nice / mpp
    draw.line([(x, y), (x + px, y)], fill=INK, width=2)
    draw.line([(x, y - 4), (x, y + 4)], fill=INK, width=1)
    draw.line([(x + px, y - 4), (x + px, y + 4)], fill=INK, width=1)
    label = f"{nice // 1000} km" if nice >= 1000 else f"{nice} m"
    draw.text((x + px + 6, y - 8), label, fill=INK, font=font(12))


def render_site_map(conn: psycopg2.extensions.connection, entity_id: int, width: int = 720,
                    height: int = 300) -> bytes | None:
    """PNG bytes of the site map, or None if the entity is not visible to this connection."""
    with conn.cursor() as cur:
        cur.execute(SITE_SQL, (entity_id,))
        row = cur.fetchone()
        if row is None:
            return None
        lon, lat, name, district, geojson = row
        dlat = CLOSE_UP_M / 111_320
        dlon = dlat / math.cos(math.radians(lat))
        cur.execute(NEIGHBOURS_SQL, (lon - dlon, lat - dlat, lon + dlon, lat + dlat, entity_id))
        neighbours = cur.fetchall()
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    half = width // 2
    rings = _rings(geojson)
    points = [p for ring in rings for p in ring] or [(lon, lat)]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    left = _Frame((min(xs), min(ys), max(xs), max(ys)), 0, half, height)
    for ring in rings:
        draw.polygon([left(x, y) for x, y in ring], fill=FILL, outline=BLUE)
    px, py = left(lon, lat)
    draw.ellipse([px - 6, py - 6, px + 6, py + 6], fill=RED, outline="white", width=2)
    draw.text((8, 6), f"{district or ''} 位置示意", fill=INK, font=font(14))
    _scale_bar(draw, left, 10, height - 14)
    right = _Frame((lon - dlon, lat - dlat, lon + dlon, lat + dlat), half, width - half, height, pad=0)
    draw.rectangle([half, 0, width - 1, height - 1], outline=GREY)
    for x, y in neighbours:
        nx, ny = right(x, y)
        draw.ellipse([nx - 3, ny - 3, nx + 3, ny + 3], fill=GREY)
    cx, cy = right(lon, lat)
    r = 100 / right.metres_per_px()  # the 100 m site radius used for check-ins
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=RED, width=2)
    draw.ellipse([cx - 6, cy - 6, cx + 6, cy + 6], fill=RED, outline="white", width=2)
    draw.text((half + 8, 6), f"{name[:14]}（周边 {CLOSE_UP_M} m）", fill=INK, font=font(14))
    draw.text((half + 8, 26), f"{lon:.5f}, {lat:.5f}（WGS 84）· 红圈：100 m 签到范围", fill=INK, font=font(12))
    _scale_bar(draw, right, half + 10, height - 14)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
