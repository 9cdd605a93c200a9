"""The layer registry: the allow-list of what can be drawn, and how.

A layer id in a URL is looked up here or refused. Each layer declares its tile SQL (files in
``layers/sql``), fields, legend and style once; the tile endpoint, the map page's style and legend
are all built from the same declaration, so adding a layer is one entry, not edits in five files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from accounts.roles import PUBLIC, STAFF_ROLES
from geo.errors import BadRequest

SQL_DIR = Path(__file__).parent / "sql"


@dataclass(frozen=True)
class LegendEntry:
    """One swatch in the legend; ``value`` is what the style's ``match`` compares against."""

    value: str
    label_zh: str
    label_en: str
    color: str


@dataclass(frozen=True)
class Layer:
    """A drawable layer backed by PostGIS."""

    id: str
    title_zh: str
    title_en: str
    geometry: str  # "polygon" | "point"
    tile_sql: str  # file in layers/sql for detailed tiles
    fields: dict[str, str]  # attribute -> type, as carried in the tiles
    popup_fields: tuple[str, ...] = ()
    style_field: str | None = None
    legend: tuple[LegendEntry, ...] = ()
    aggregate_sql: str | None = None  # file used at zooms <= aggregate_max_zoom
    aggregate_max_zoom: int = -1
    minzoom: int = 0
    maxzoom: int = 22
    visible: bool = True
    field_labels: dict[str, str] = field(default_factory=dict)
    roles: tuple[str, ...] = STAFF_ROLES  # who may draw it; PUBLIC for everyone

    def sql_for_zoom(self, z: int) -> str:
        """The tile query for zoom ``z``: aggregated at low zoom when the layer declares it."""
        name = self.aggregate_sql if self.aggregate_sql and z <= self.aggregate_max_zoom \
            else self.tile_sql
        return read_sql(name)


@cache
def read_sql(name: str) -> str:
    """The text of a SQL file in ``layers/sql`` (read once, then cached)."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


CATEGORY_LEGEND = (
    LegendEntry("catering", "餐饮服务", "Catering", "#f3a712"),
    LegendEntry("food", "食品经营", "Food business", "#e4572e"),
    LegendEntry("retail", "商品零售", "General retail", "#8ac926"),
    LegendEntry("drugs", "药品零售", "Drug retail", "#29a19c"),
    LegendEntry("medical", "医疗器械", "Medical devices", "#4f6d7a"),
    LegendEntry("special_eq", "特种设备", "Special equipment", "#6c4f9c"),
    LegendEntry("industrial", "工业产品生产", "Industrial products", "#3a86ff"),
    LegendEntry("construction", "建筑施工", "Construction", "#8d6a3f"),
    LegendEntry("hazchem", "危险化学品", "Hazardous chemicals", "#c1121f"),
)
ADMIN_LEGEND = (
    LegendEntry("province", "省界", "Province", "#1d3557"),
    LegendEntry("city", "市界", "City", "#457b9d"),
    LegendEntry("district", "区县界", "District", "#8fb3c9"),
)

LAYERS: dict[str, Layer] = {layer.id: layer for layer in (
    Layer(
        id="admin_areas", title_zh="行政区划", title_en="Administrative areas", geometry="polygon",
        tile_sql="admin_areas_tile.sql",
        fields={"adcode": "string", "name": "string", "level": "string", "parent_adcode": "string"},
        popup_fields=("name", "adcode", "level"), style_field="level", legend=ADMIN_LEGEND,
        field_labels={"name": "名称", "adcode": "行政区划代码", "level": "级别"},
        roles=(PUBLIC,),
    ),
    Layer(
        id="entities", title_zh="监管对象", title_en="Regulated entities", geometry="point",
        tile_sql="entities_tile.sql", aggregate_sql="entities_cells_tile.sql", aggregate_max_zoom=12,
        fields={"id": "integer", "name": "string", "uscc": "string", "category": "string",
                "category_name": "string", "risk_class": "string", "address": "string",
                "district_adcode": "string", "count": "integer"},
        popup_fields=("name", "uscc", "category_name", "risk_class", "address"),
        style_field="category", legend=CATEGORY_LEGEND, minzoom=0,
        field_labels={"name": "名称", "uscc": "统一社会信用代码", "category_name": "类别",
                      "risk_class": "风险等级", "address": "地址", "count": "数量"},
    ),
)}


def get_layer(layer_id: str) -> Layer:
    """The registered layer, or BadRequest naming the known ones."""
    try:
        return LAYERS[layer_id]
    except KeyError:
        known = ", ".join(sorted(LAYERS))
        raise BadRequest(f"未知图层 {layer_id!r}；可用图层：{known} / unknown layer") from None
