"""Small factories for the one-map side panel: layer blocks, tools, search, choropleth, selection.

Component ids live here too (``IDS``), so the page module and its tests share one list.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.i18n import t
from layers.choropleth import INDICATORS
from layers.registry import Layer


class IDS:
    """Component ids of the one-map page."""

    MAP = "zt-map"
    CONFIG = "zt-map-config"
    STATUS = "zt-map-status"
    SEARCH = "zt-search"
    SEARCH_RESULTS = "zt-search-results"
    TOOL_POLYGON = "zt-tool-polygon"
    TOOL_CIRCLE = "zt-tool-circle"
    TOOL_MEASURE = "zt-tool-measure"
    TOOL_CLEAR = "zt-tool-clear"
    TOOL_STATE = "zt-tool-state"
    TOOL_STATUS = "zt-tool-status"
    SELECTION = "zt-selection"
    SELECTION_LAYER = "zt-selection-layer"
    SELECTION_RESULT = "zt-selection-result"
    EXPORT_CSV = "zt-export-csv"
    EXPORT_XLSX = "zt-export-xlsx"
    DOWNLOAD = "zt-download"
    CHOROPLETH = "zt-choropleth"
    CHOROPLETH_DATA = "zt-choropleth-data"
    CHOROPLETH_LEGEND = "zt-choropleth-legend"
    BASEMAP = "zt-basemap"
    EXPORT_MAP = "zt-export-map"


def layer_on_id(layer_id: str) -> dict:
    """Pattern-matching id of a layer's on/off checkbox (ALL matches every layer)."""
    return {"type": "zt-layer-on", "layer": layer_id}


def layer_opacity_id(layer_id: str) -> dict:
    """Pattern-matching id of a layer's opacity slider."""
    return {"type": "zt-layer-opacity", "layer": layer_id}


def filter_id(layer_id: str, field: str) -> dict:
    """Pattern-matching id of one filter of one layer."""
    return {"type": "zt-filter", "layer": layer_id, "field": field}


def _filter_options(layer: Layer, name: str) -> list[dict]:
    labels = {e.value: e.label_zh for e in layer.legend}
    spec = layer.filters[name]
    return [{"label": labels.get(v, v), "value": v} for v in spec.values]


def layer_block(layer: Layer, lang: str, on: bool, opacity: float, filters: dict[str, list[str]]
                ) -> html.Div:
    """One layer in the tree: toggle, opacity, its legend and its enum filters."""
    swatches = [html.Li([html.Span(className=f"zt-swatch zt-swatch-{layer.geometry}",
                                   style={"backgroundColor": e.color, "borderColor": e.color}),
                         e.label_en if lang == "en" else e.label_zh]) for e in layer.legend]
    enum_filters = [name for name, spec in layer.filters.items() if spec.kind == "enum"]
    return html.Div(className="zt-layer", children=[
        dcc.Checklist(id=layer_on_id(layer.id), className="zt-layer-toggle",
                      options=[{"label": layer.title(lang), "value": layer.id}],
                      value=[layer.id] if on else []),
        html.Details(className="zt-layer-more", children=[
            html.Summary("图例与筛选" if lang == "zh" else "Legend and filters"),
            html.Ul(swatches, className="zt-legend-list"),
            html.Label(["透明度" if lang == "zh" else "Opacity",
                        dcc.Slider(id=layer_opacity_id(layer.id), min=0, max=1, step=0.1,
                                   value=opacity, marks=None,
                                   tooltip={"placement": "bottom", "always_visible": False})]),
            *[html.Label([layer.filters[name].label_zh or name,
                          dcc.Dropdown(id=filter_id(layer.id, name), multi=True,
                                       options=_filter_options(layer, name),
                                       value=filters.get(name, []), placeholder="全部")])
              for name in enum_filters],
        ]),
    ])


def tools(lang: str) -> html.Div:
    """Selection, measuring and export tools."""
    def button(id_: str, zh: str, en: str) -> html.Button:
        return html.Button(en if lang == "en" else zh, id=id_, className="zt-tool", n_clicks=0)

    return html.Div(className="zt-tools", children=[
        button(IDS.TOOL_POLYGON, "多边形选择", "Polygon select"),
        button(IDS.TOOL_CIRCLE, "圆形选择", "Circle select"),
        button(IDS.TOOL_MEASURE, "测距", "Measure"),
        button(IDS.TOOL_CLEAR, "结束", "Stop"),
        html.Div(id=IDS.TOOL_STATUS, className="zt-tool-status"),
        html.Div(id=IDS.TOOL_STATE, hidden=True),
    ])


def search_box(lang: str) -> html.Div:
    """Search entities by name, USCC or address."""
    return html.Div(className="zt-search", children=[
        dcc.Input(id=IDS.SEARCH, type="search", debounce=True, className="zt-search-input",
                  placeholder="名称 / 统一社会信用代码 / 地址" if lang == "zh" else "Name / USCC / address"),
        html.Div(id=IDS.SEARCH_RESULTS, className="zt-search-results"),
    ])


def choropleth_picker(lang: str) -> html.Div:
    """Indicator choice for the district choropleth, and its classed legend."""
    options = [{"label": i.label_en if lang == "en" else i.label_zh, "value": i.id}
               for i in INDICATORS.values()]
    return html.Div(className="zt-choropleth", children=[
        dcc.Dropdown(id=IDS.CHOROPLETH, options=options, value=None,
                     placeholder="专题图：选择指标" if lang == "zh" else "Choropleth: pick an indicator"),
        html.Div(id=IDS.CHOROPLETH_LEGEND),
        dcc.Store(id=IDS.CHOROPLETH_DATA),
    ])


def choropleth_legend(data: dict) -> html.Div:
    """Class breaks with their colours (text only)."""
    if not data.get("legend"):
        return html.Div("无数据 / no data", className="zt-hint")
    rows = [html.Li([html.Span(className="zt-swatch", style={"backgroundColor": c["color"]}),
                     f"{c['from']:.4g} – {c['to']:.4g} {data['unit']}"]) for c in data["legend"]]
    note = (html.P(f"{data['cells']} 个网格有数据；放大到 13 级以上显示网格 / zoom to 13+ to see the grid",
                   className="zt-hint") if data.get("level") == "grid" else None)
    return html.Div([html.Div(data["label"], className="zt-density-title"),
                     html.Ul(rows, className="zt-legend-list zt-legend-one"), note])


def selection_panel(layers: list[Layer], lang: str) -> html.Div:
    """Where the result of a polygon or circle selection appears, with export buttons."""
    return html.Div(className="zt-selection", children=[
        dcc.Store(id=IDS.SELECTION),
        dcc.Dropdown(id=IDS.SELECTION_LAYER, clearable=False,
                     options=[{"label": layer.title(lang), "value": layer.id}
                              for layer in layers if layer.geometry == "point"],
                     value="entities" if any(layer.id == "entities" for layer in layers) else None),
        html.Div(id=IDS.SELECTION_RESULT),
        html.Div(className="zt-export", children=[
            html.Button("导出 CSV", id=IDS.EXPORT_CSV, className="zt-tool", n_clicks=0),
            html.Button("导出 Excel", id=IDS.EXPORT_XLSX, className="zt-tool", n_clicks=0),
        ]),
        dcc.Download(id=IDS.DOWNLOAD),
    ])


def selection_summary(result: dict, lang: str) -> html.Div:
    """Counts by category and the first rows of a selection, as text."""
    counts = [html.Li(f"{c['label']}：{c['count']}") for c in result["counts"]]
    head = ["名称" if lang == "zh" else "Name", "编号" if lang == "zh" else "ID"]
    body = [html.Tr([html.Td(str(r.get("name") or r.get("entity_name") or r.get("category") or "")),
                     html.Td(str(r.get("id")))]) for r in result["rows"][:50]]
    return html.Div([
        html.P(f"选区内共 {result['total']} 个" if lang == "zh" else f"{result['total']} inside",
               id="zt-selection-total"),
        html.Ul(counts, className="zt-selection-counts"),
        html.Table([html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(body)],
                   className="zt-table"),
    ])


def density_note(lang: str, ramp: list[str]) -> html.Div:
    """The colour ramp used for counts where a layer is aggregated at low zoom."""
    return html.Div(className="zt-density", children=[
        html.Div(t("map.density", lang), className="zt-density-title"),
        html.Div(className="zt-density-bar", style={"background": f"linear-gradient(90deg, {', '.join(ramp)})"}),
        html.Div([html.Span(t("map.density.low", lang)), html.Span(t("map.density.high", lang))],
                 className="zt-density-ends"),
    ])
