"""What an export asks for: the explorer's query string validated into a view, layers and filters.

Shared constants and the small records passed between parsing, querying and rendering live here too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from folium.utilities import JsCode

from geo.errors import BadRequest
from layers.filters import parse_filters
from layers.registry import Layer, get_layer

VIEW_WIDTH, VIEW_HEIGHT = 1600, 1000  # px: the screen assumed for map=zoom/lon/lat
TILE_SIZE = 512  # the explorer's (MapLibre's) zoom: the world is 512·2^z px wide
MAX_LAT = 85.0511  # Web Mercator's limit
POINT_CAP = 5_000  # more points than this in the view: export grid counts instead
POLYGON_CAP = 2_000  # more polygons than this: export the first ones and say so
GRID_COLUMNS = 40  # aggregation cells across the view (about 40 px each)
BEIJING = ZoneInfo("Asia/Shanghai")
LEAFLET_VERSION = "1.9.3"  # what folium 0.20's Map template references; vendored to match
VENDOR = Path(__file__).parent / "vendor" / "leaflet"
KNOWN_PARAMS = ("map", "bbox", "layers", "opacity", "lang", "basemap")  # basemap: ignored, offline
OUTLINE_WIDTHS = {"province": 2.6, "city": 1.6, "district": 0.8}
GRID_RADII = (4, 6, 8.5, 11.5, 15)  # px per count class (cells are about 40 px apart)
FALLBACK_COLOUR = "#666666"
REGION_NAME = "SELECT name FROM admin_areas WHERE adcode = rpad(%s, 6, '0')"

POLYGON_GEOM = ("ST_Simplify(ST_ClipByBox2D(s.geom, ST_MakeEnvelope(%(clip_west)s, %(clip_south)s, "
                "%(clip_east)s, %(clip_north)s, 4326)::box2d), %(tolerance)s, true)")
BIND_POPUP = JsCode("""function (feature, layer) {
    if (feature.properties && feature.properties.popup) {
        layer.bindPopup(feature.properties.popup, {maxWidth: 340});
    }
}""")

TEXT = {
    "zh": {"heading": "政图 · 地图导出", "time": "导出时间：{} （北京时间）", "bbox": "范围（WGS 84）：{}",
           "region": "数据范围：导出人辖区 {}", "filters": "筛选：{}", "none": "无",
           "features": "视图内 {:,} 个", "empty": "视图内没有要素",
           "grid": "视图内共 {:,} 个，超过 {:,} 个的上限，已按网格聚合（每格约 {} 像素），圆点大小与颜色表示数量",
           "truncated": "超过 {:,} 个，仅显示前 {:,} 个", "cell": "此处 {:,} 个{}", "legend": "图例",
           "basemap": "底图：{}（需联网）"},
    "en": {"heading": "Zhengtu · map export", "time": "Exported {} (Beijing time)", "bbox": "Extent (WGS 84): {}",
           "region": "Data limited to the exporter's region {}", "filters": "Filters: {}", "none": "none",
           "features": "{:,} in view", "empty": "nothing in view",
           "grid": "{:,} in view, over the cap of {:,}: aggregated per grid cell (about {} px); size and colour "
                   "show the count", "truncated": "over {:,}: only the first {:,} shown",
           "cell": "{:,} {} here", "legend": "Legend", "basemap": "Base map: {} (needs internet)"},
}


@dataclass(frozen=True)
class View:
    """The exported area: WGS 84 bounds and the explorer zoom that shows them on the assumed screen."""

    west: float
    south: float
    east: float
    north: float
    zoom: float

    def params(self) -> dict[str, float | int]:
        """Bound parameters for the export SQL: envelope, clip margin, simplification, grid cell."""
        width, height = self.east - self.west, self.north - self.south
        return {"west": self.west, "south": self.south, "east": self.east, "north": self.north,
                "clip_west": self.west - width / 2, "clip_east": self.east + width / 2,
                "clip_south": self.south - height / 2, "clip_north": self.north + height / 2,
                "tolerance": width / VIEW_WIDTH / 2, "cell": width / GRID_COLUMNS, "z": int(self.zoom)}


@dataclass(frozen=True)
class LayerSpec:
    """One layer to export with its validated filters and opacity."""

    layer: Layer
    filters: dict[str, object] = field(default_factory=dict)
    opacity: float = 1.0


@dataclass(frozen=True)
class ExportSpec:
    """Everything the query string asked for, validated."""

    view: View
    layers: tuple[LayerSpec, ...]
    lang: str = "zh"


@dataclass(frozen=True)
class Basemap:
    """A raster tile base layer the caller configured (the default export has none: offline)."""

    url: str
    attribution: str


@dataclass(frozen=True)
class LayerData:
    """A layer's GeoJSON for the view and how it was made: ``features``, ``grid`` or ``truncated``."""

    spec: LayerSpec
    collection: dict
    total: int
    mode: str


@dataclass(frozen=True)
class Export:
    """The rendered HTML and what went into it."""

    html: str
    layers: tuple[LayerData, ...]
    exported_at: datetime

    def filename(self) -> str:
        """The download name, in Beijing time: 政图-导出-YYYYMMDD-HHMM.html."""
        return f"政图-导出-{self.exported_at:%Y%m%d-%H%M}.html"

    def content_disposition(self) -> str:
        """An attachment header with an ASCII fallback and the Chinese name per RFC 5987/6266."""
        fallback = f"zhengtu-export-{self.exported_at:%Y%m%d-%H%M}.html"
        return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(self.filename())}"


# ---------- the query string ----------

def _numbers(raw: str, count: int, sep: str, name: str, example: str) -> list[float]:
    """``count`` finite numbers separated by ``sep``, or a 400 showing the expected form."""
    parts = raw.split(sep)
    try:
        values = [float(p) for p in parts] if len(parts) == count else []
    except ValueError:
        values = []
    if not values or not all(math.isfinite(v) for v in values):
        raise BadRequest(f"参数 {name} 格式无效：{raw!r}，应如 {name}={example} / "
                         f"{name} must look like {example}")
    return values


def _mercator_y(lat: float) -> float:
    """Web Mercator y of a latitude as a fraction of the world (0 north … 1 south)."""
    return (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2


def _lat_of(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


def view_from_map(raw: str) -> View:
    """The bounds a 1600×1000 px screen shows at the explorer's ``map=zoom/lon/lat``.

    The explorer's zoom is MapLibre's (512 px tiles), one less than Leaflet's for the same scale.
    """
    zoom, lon, lat = _numbers(raw, 3, "/", "map", "12/113.33/23.13")
    if not (0 <= zoom <= 22 and -180 <= lon <= 180 and -MAX_LAT <= lat <= MAX_LAT):
        raise BadRequest(f"参数 map 超出范围：缩放 0–22、经度 ±180、纬度 ±{MAX_LAT}：{raw!r} / map out of range")
    world = TILE_SIZE * 2 ** zoom
    x, y = (lon + 180) / 360 * world, _mercator_y(lat) * world
    west = max((x - VIEW_WIDTH / 2) / world * 360 - 180, -180.0)
    east = min((x + VIEW_WIDTH / 2) / world * 360 - 180, 180.0)
    north = min(_lat_of(max(y - VIEW_HEIGHT / 2, 0) / world), MAX_LAT)
    south = max(_lat_of(min(y + VIEW_HEIGHT / 2, world) / world), -MAX_LAT)
    return View(west, south, east, north, zoom)


def view_from_bbox(raw: str) -> View:
    """A ``bbox=minLon,minLat,maxLon,maxLat`` view, with the zoom that fits it on the assumed screen."""
    west, south, east, north = _numbers(raw, 4, ",", "bbox", "113.2,23.05,113.45,23.25")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise BadRequest(f"参数 bbox 无效：应为 最小经度,最小纬度,最大经度,最大纬度，且最小值小于最大值：{raw!r}"
                         " / bbox must be minLon,minLat,maxLon,maxLat with min < max")
    south, north = max(south, -MAX_LAT), min(north, MAX_LAT)
    if south >= north:
        raise BadRequest(f"参数 bbox 超出 Web 墨卡托范围 ±{MAX_LAT}° / bbox outside Web Mercator")
    zoom_x = math.log2(VIEW_WIDTH * 360 / (TILE_SIZE * (east - west)))
    zoom_y = math.log2(VIEW_HEIGHT / (TILE_SIZE * (_mercator_y(south) - _mercator_y(north))))
    return View(west, south, east, north, min(max(min(zoom_x, zoom_y), 0.0), 22.0))


def parse_layer_ids(args: Mapping[str, str], defaults: Sequence[str]) -> list[Layer]:
    """The requested layers (``layers=a,b``; absent: ``defaults``), each looked up in the registry."""
    raw = args.get("layers")
    ids = list(defaults) if raw is None else [p.strip() for p in raw.split(",") if p.strip()]
    if not ids:
        raise BadRequest("请至少选择一个图层（参数 layers）/ choose at least one layer (layers=)")
    return [get_layer(layer_id) for layer_id in dict.fromkeys(ids)]


def _parse_opacity(raw: str) -> dict[str, float]:
    """``opacity=layer:0.5,...`` as the explorer writes it; a 400 for anything else."""
    found: dict[str, float] = {}
    for part in filter(None, raw.split(",")):
        name, sep, value = part.partition(":")
        if not sep:
            raise BadRequest(f"参数 opacity 格式无效：{part!r}，应如 opacity=entities:0.5 / "
                             "opacity must look like layer:0.5")
        layer = get_layer(name)
        number = _numbers(value, 1, ",", "opacity", "entities:0.5")[0]
        if not 0 <= number <= 1:
            raise BadRequest(f"参数 opacity 的取值应在 0–1：{part!r} / opacity must be 0..1")
        found[layer.id] = number
    return found


def _parse_all_filters(args: Mapping[str, str]) -> dict[str, dict[str, object]]:
    """Every ``<layer>.<filter>=...`` validated against the registry, grouped by layer."""
    grouped: dict[str, dict[str, str]] = {}
    for key, raw in args.items():
        if "." in key:
            layer_id, _, name = key.partition(".")
            grouped.setdefault(get_layer(layer_id).id, {})[name] = raw
        elif key not in KNOWN_PARAMS:
            raise BadRequest(f"未知参数 {key!r}；可用：{', '.join(KNOWN_PARAMS)}、<图层>.<筛选字段> / "
                             "unknown parameter")
    return {layer_id: parse_filters(get_layer(layer_id), values) for layer_id, values in grouped.items()}


def parse_export(args: Mapping[str, str], layers: Sequence[Layer]) -> ExportSpec:
    """The export the explorer's query string describes (``bbox`` overrides ``map``); 400 on bad input.

    ``layers`` come from ``parse_layer_ids`` and must already be cleared for the caller's role.
    """
    lang = args.get("lang") or "zh"
    if lang not in TEXT:
        raise BadRequest(f"参数 lang 应为 zh 或 en：{lang!r} / lang must be zh or en")
    if args.get("bbox"):
        view = view_from_bbox(args["bbox"])
    elif args.get("map"):
        view = view_from_map(args["map"])
    else:
        raise BadRequest("缺少地图范围：请给出 map=缩放/经度/纬度 或 bbox=最小经度,最小纬度,最大经度,最大纬度 / "
                         "missing map=zoom/lon/lat or bbox=minLon,minLat,maxLon,maxLat")
    filters = _parse_all_filters(args)
    opacity = _parse_opacity(args.get("opacity", ""))
    specs = tuple(LayerSpec(layer, filters.get(layer.id, {}), opacity.get(layer.id, 1.0)) for layer in layers)
    return ExportSpec(view, specs, lang)
