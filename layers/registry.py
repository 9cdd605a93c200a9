"""The layer registry: the allow-list of what can be drawn or queried, and how.

A layer id in a URL is looked up here or refused. Each layer declares its source (a table or a
``security_invoker`` view), fields with types, the filters it accepts, style and legend, popup fields,
zooms, roles and how it aggregates at low zoom. Tiles, the OGC API, the map's style and legend are all
built from the same declaration, so adding a layer is one entry in ``LAYERS``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from accounts.roles import PUBLIC, STAFF_ROLES
from geo.errors import BadRequest

SQL_DIR = Path(__file__).parent / "sql"


@dataclass(frozen=True)
class Field:
    """An attribute a layer exposes: its JSON/MVT type and its label."""

    type: str  # "integer" | "number" | "string" | "date" | "datetime"
    label_zh: str
    label_en: str


@dataclass(frozen=True)
class Filter:
    """A filter a layer accepts as a query parameter (validated, then bound, never interpolated).

    kinds: ``enum`` (comma-separated values from ``values``), ``prefix`` (an adcode prefix of 2, 4
    or 6 digits), ``date_from`` / ``date_to`` (YYYY-MM-DD bounds on ``column``).
    """

    kind: str
    column: str
    values: tuple[str, ...] = ()
    label_zh: str = ""


@dataclass(frozen=True)
class LegendEntry:
    """One swatch in the legend; ``value`` is what the style's ``match`` compares against."""

    value: str
    label_zh: str
    label_en: str
    color: str


@dataclass(frozen=True)
class Layer:
    """A drawable, queryable layer backed by PostGIS."""

    id: str
    title_zh: str
    title_en: str
    geometry: str  # "point" | "polygon" | "line" (imported layers)
    source: str  # table or security_invoker view (identifier from this module only)
    fields: dict[str, Field]
    filters: dict[str, Filter] = field(default_factory=dict)
    popup_fields: tuple[str, ...] = ()
    style_field: str | None = None
    legend: tuple[LegendEntry, ...] = ()
    time_field: str | None = None
    aggregate: str | None = None  # "pyramid" (precomputed counts) | "cluster" (grid on the fly)
    aggregate_max_zoom: int = -1
    heatmap: bool = False
    minzoom: int = 0
    maxzoom: int = 22
    visible: bool = True
    roles: tuple[str, ...] = STAFF_ROLES  # who may draw or query it; PUBLIC for everyone
    tile_where: str = "true"  # static SQL from this module, e.g. zoom-dependent levels
    simplify: bool = False  # simplify polygons to the tile's pixel size
    detail_url: str | None = None  # page for one feature, "{id}" replaced
    gcj02_geom: str | None = None  # a stored GCJ-02 copy of polygons (points are shifted on the fly)

    def label(self, name: str, lang: str = "zh") -> str:
        """A field's label in the interface language."""
        spec = self.fields.get(name)
        return name if spec is None else (spec.label_en if lang == "en" else spec.label_zh)

    def title(self, lang: str = "zh") -> str:
        """The layer's title in the interface language."""
        return self.title_en if lang == "en" else self.title_zh

    def aggregated_at(self, z: int) -> bool:
        """Whether tiles at zoom ``z`` carry counts rather than individual features."""
        return self.aggregate is not None and z <= self.aggregate_max_zoom


@cache
def read_sql(name: str) -> str:
    """The text of a SQL file in ``layers/sql`` (read once, then cached)."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _legend(*entries: tuple[str, str, str, str]) -> tuple[LegendEntry, ...]:
    return tuple(LegendEntry(*e) for e in entries)


CATEGORY_LEGEND = _legend(
    ("catering", "餐饮服务", "Catering", "#f3a712"), ("food", "食品经营", "Food business", "#e4572e"),
    ("retail", "商品零售", "General retail", "#8ac926"), ("drugs", "药品零售", "Drug retail", "#29a19c"),
    ("medical", "医疗器械", "Medical devices", "#4f6d7a"),
    ("special_eq", "特种设备", "Special equipment", "#6c4f9c"),
    ("industrial", "工业产品生产", "Industrial products", "#3a86ff"),
    ("construction", "建筑施工", "Construction", "#8d6a3f"),
    ("hazchem", "危险化学品", "Hazardous chemicals", "#c1121f"),
)
ADMIN_LEGEND = _legend(("province", "省界", "Province", "#1d3557"), ("city", "市界", "City", "#457b9d"),
                       ("district", "区县界", "District", "#8fb3c9"))
TASK_LEGEND = _legend(("open", "待检查", "Open", "#f77f00"), ("in_progress", "检查中", "In progress", "#3a86ff"),
                      ("done", "已完成", "Done", "#2a9d8f"))
CASE_LEGEND = _legend(("立案", "立案", "Filed", "#e63946"), ("调查取证", "调查取证", "Investigation", "#f77f00"),
                      ("法制审核", "法制审核", "Legal review", "#9b5de5"), ("决定", "决定", "Decision", "#3a86ff"),
                      ("执行", "执行", "Enforcement", "#00b4d8"), ("结案", "结案", "Closed", "#6c757d"))
# Events: overdue first (the view's display_state says 超期 for an open event past its deadline),
# then the closed loop's stages.
EVENT_LEGEND = _legend(("超期", "超期", "Overdue", "#d00000"), ("信息收集", "信息收集", "Reported", "#e63946"),
                       ("立案", "立案", "Accepted", "#f77f00"), ("派遣", "派遣", "Dispatched", "#fcbf49"),
                       ("处置", "处置", "Handling", "#3a86ff"), ("反馈", "反馈", "Reported back", "#4cc9f0"),
                       ("核查", "核查", "Verifying", "#9b5de5"), ("结案", "结案", "Closed", "#2a9d8f"))
EVENT_STATUSES = ("信息收集", "立案", "派遣", "处置", "反馈", "核查", "结案")
SENSOR_LEGEND = _legend(("alarm", "告警", "Alarm", "#d00000"), ("normal", "正常", "Normal", "#2a9d8f"),
                        ("offline", "离线", "Offline", "#8d99ae"))

EVIDENCE_LEGEND = _legend(("photo", "照片", "Photo", "#3a86ff"), ("video", "视频", "Video", "#8338ec"),
                          ("audio", "录音", "Audio", "#ff006e"), ("document", "文档", "Document", "#6c757d"),
                          ("note", "文字记录", "Note", "#2a9d8f"))

DISTRICT = Filter("prefix", "district_adcode", label_zh="辖区")
COMMON = {"id": Field("integer", "编号", "ID"), "district_adcode": Field("string", "区县代码", "District")}

LAYERS: dict[str, Layer] = {layer.id: layer for layer in (
    Layer(
        id="admin_areas", title_zh="行政区划", title_en="Administrative areas", geometry="polygon",
        source="admin_areas",
        fields={"adcode": Field("string", "行政区划代码", "Adcode"), "name": Field("string", "名称", "Name"),
                "level": Field("string", "级别", "Level"),
                "parent_adcode": Field("string", "上级代码", "Parent")},
        filters={"level": Filter("enum", "level", ("province", "city", "district"), "级别")},
        popup_fields=("name", "adcode", "level"), style_field="level", legend=ADMIN_LEGEND,
        roles=(PUBLIC,), tile_where="(level <> 'district' OR %(z)s >= 6)", simplify=True,
        gcj02_geom="geom_gcj02",
    ),
    Layer(
        id="entities", title_zh="监管对象", title_en="Regulated entities", geometry="point",
        source="layer_entities",
        fields={**COMMON, "name": Field("string", "名称", "Name"),
                "uscc": Field("string", "统一社会信用代码", "USCC"),
                "category": Field("string", "类别代码", "Category code"),
                "category_name": Field("string", "类别", "Category"),
                "risk_class": Field("string", "风险等级", "Risk class"),
                "address": Field("string", "地址", "Address")},
        filters={"category": Filter("enum", "category", tuple(e.value for e in CATEGORY_LEGEND), "类别"),
                 "risk_class": Filter("enum", "risk_class", ("A", "B", "C", "D"), "风险等级"),
                 "district": DISTRICT},
        popup_fields=("name", "uscc", "category_name", "risk_class", "address"),
        style_field="category", legend=CATEGORY_LEGEND, aggregate="pyramid", aggregate_max_zoom=12,
        detail_url="/entity/{id}",
    ),
    Layer(
        id="tasks", title_zh="检查任务", title_en="Inspection tasks", geometry="point",
        source="layer_tasks",
        fields={**COMMON, "kind": Field("string", "任务类型", "Kind"), "status": Field("string", "状态", "Status"),
                "due_date": Field("date", "期限", "Due"), "entity_id": Field("integer", "监管对象编号", "Entity"),
                "entity_name": Field("string", "监管对象", "Entity name")},
        filters={"status": Filter("enum", "status", ("open", "in_progress", "done"), "状态"),
                 "kind": Filter("enum", "kind", ("random", "complaint", "campaign", "routine"), "类型"),
                 "due_from": Filter("date_from", "due_date", label_zh="期限起"),
                 "due_to": Filter("date_to", "due_date", label_zh="期限止"), "district": DISTRICT},
        popup_fields=("entity_name", "kind", "status", "due_date"), style_field="status",
        legend=TASK_LEGEND, time_field="due_date", aggregate="cluster", aggregate_max_zoom=10,
        visible=False,
    ),
    Layer(
        id="cases", title_zh="执法案件", title_en="Enforcement cases", geometry="point",
        source="layer_cases",
        fields={**COMMON, "case_no": Field("string", "案号", "Case no."), "title": Field("string", "案由", "Title"),
                "stage": Field("string", "阶段", "Stage"), "opened_on": Field("date", "立案日期", "Opened"),
                "entity_id": Field("integer", "监管对象编号", "Entity"),
                "entity_name": Field("string", "当事人", "Party")},
        filters={"stage": Filter("enum", "stage", tuple(e.value for e in CASE_LEGEND), "阶段"),
                 "opened_from": Filter("date_from", "opened_on", label_zh="立案起"),
                 "opened_to": Filter("date_to", "opened_on", label_zh="立案止"), "district": DISTRICT},
        popup_fields=("case_no", "title", "stage", "entity_name", "opened_on"), style_field="stage",
        legend=CASE_LEGEND, time_field="opened_on", aggregate="cluster", aggregate_max_zoom=10,
        visible=False,
    ),
    Layer(
        id="events", title_zh="城市事件", title_en="City events", geometry="point",
        source="layer_ops_events",
        fields={**COMMON, "category": Field("string", "类别代码", "Category code"),
                "category_name": Field("string", "事件类别", "Category"),
                "description": Field("string", "描述", "Description"),
                "source": Field("string", "来源", "Source"), "status": Field("string", "状态", "Status"),
                "display_state": Field("string", "显示状态", "Display state"),
                "overdue": Field("string", "超期", "Overdue"),
                "reported_at": Field("datetime", "上报时间", "Reported"),
                "department": Field("string", "责任部门", "Department"),
                "grid_code": Field("string", "单元网格", "Unit grid"),
                "report_count": Field("integer", "上报次数", "Reports")},
        filters={"status": Filter("enum", "status", EVENT_STATUSES, "状态"),
                 "overdue": Filter("enum", "overdue", ("yes", "no"), "超期"),
                 "category": Filter("prefix", "category", label_zh="事件类别"),
                 "source": Filter("enum", "source", ("hotline", "grid", "sensor", "citizen", "inspection"),
                                  "来源"),
                 "reported_from": Filter("date_from", "reported_at", label_zh="上报起"),
                 "reported_to": Filter("date_to", "reported_at", label_zh="上报止"), "district": DISTRICT},
        popup_fields=("category_name", "description", "status", "overdue", "department", "source",
                      "reported_at", "report_count"),
        style_field="display_state", legend=EVENT_LEGEND, time_field="reported_at", aggregate="cluster",
        aggregate_max_zoom=10, heatmap=True, visible=False,
    ),
    Layer(
        id="evidence", title_zh="取证位置", title_en="Evidence locations", geometry="point",
        source="layer_evidence",
        fields={**COMMON, "kind": Field("string", "类型", "Kind"),
                "media_type": Field("string", "文件类型", "Media type"),
                "received_at": Field("datetime", "接收时间", "Received"),
                "username": Field("string", "取证人", "Captured by"),
                "task_id": Field("integer", "任务编号", "Task"), "case_id": Field("integer", "案件编号", "Case"),
                "flags": Field("string", "提示", "Flags")},
        filters={"kind": Filter("enum", "kind", tuple(e.value for e in EVIDENCE_LEGEND), "类型"),
                 "received_from": Filter("date_from", "received_at", label_zh="接收起"),
                 "received_to": Filter("date_to", "received_at", label_zh="接收止"), "district": DISTRICT},
        popup_fields=("kind", "received_at", "username", "task_id", "flags"), style_field="kind",
        legend=EVIDENCE_LEGEND, time_field="received_at", aggregate="cluster", aggregate_max_zoom=10,
        visible=False, roles=("inspector", "legal_reviewer", "manager", "admin"),
    ),
    Layer(
        id="unit_grids", title_zh="单元网格", title_en="Unit grids", geometry="polygon",
        source="layer_unit_grids",
        fields={**COMMON, "code": Field("string", "网格编码", "Grid code"),
                "area_m2": Field("number", "面积（平方米）", "Area (m²)"),
                "entities": Field("integer", "监管对象", "Entities"),
                "events": Field("integer", "城市事件", "City events"),
                "open_events": Field("integer", "未结事件", "Open events")},
        filters={"district": DISTRICT}, popup_fields=("code", "area_m2", "entities", "events", "open_events"),
        minzoom=13, visible=False,
    ),
    Layer(
        id="sensors", title_zh="感知设备", title_en="Sensors", geometry="point", source="layer_sensors",
        fields={**COMMON, "code": Field("string", "设备编号", "Code"), "name": Field("string", "名称", "Name"),
                "kind": Field("string", "类型", "Kind"), "state": Field("string", "状态", "State"),
                "last_value": Field("number", "最新读数", "Latest reading"),
                "unit": Field("string", "单位", "Unit"),
                "threshold_high": Field("number", "告警阈值", "Threshold"),
                "last_reading_at": Field("datetime", "读数时间", "Read at"),
                "grid_code": Field("string", "单元网格", "Unit grid")},
        filters={"state": Filter("enum", "state", tuple(e.value for e in SENSOR_LEGEND), "状态"),
                 "kind": Filter("enum", "kind", ("water_level", "noise", "air_pm25", "manhole", "smoke",
                                                 "gas"), "类型"),
                 "district": DISTRICT},
        popup_fields=("name", "code", "state", "last_value", "unit", "threshold_high", "last_reading_at"),
        style_field="state", legend=SENSOR_LEGEND, visible=False,
    ),
)}


BUILTIN_LAYERS = frozenset(LAYERS)


def merge_imported(imported: Iterable[Layer]) -> None:
    """Put imported layers (``layers/catalogue.py``) into ``LAYERS`` in place; built-ins stay as they are.

    In place, because modules hold a reference to ``LAYERS``; only changed entries are touched, and
    this runs only when the catalogue changed.
    """
    fresh = {layer.id: layer for layer in imported if layer.id not in BUILTIN_LAYERS}
    for stale in [key for key in LAYERS if key not in BUILTIN_LAYERS and key not in fresh]:
        LAYERS.pop(stale, None)
    for key, layer in fresh.items():
        if LAYERS.get(key) != layer:
            LAYERS[key] = layer


def get_layer(layer_id: str) -> Layer:
    """The registered layer, or BadRequest naming the known ones."""
    try:
        return LAYERS[layer_id]
    except KeyError:
        known = ", ".join(sorted(LAYERS))
        raise BadRequest(f"未知图层 {layer_id!r}；可用图层：{known} / unknown layer") from None
