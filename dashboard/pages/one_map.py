"""一张图 — the map explorer: every layer the caller may see, from the app's own vector tiles.

The map itself is MapLibre GL JS (served from ``assets/vendor``) driven by ``assets/map.js``:
Plotly's map cannot raise click events for vector-tile features. The page's state (centre, zoom,
layers, opacity, filters, base map) lives in the URL's query string, so a link restores the view.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from flask import current_app, request

from accounts.roles import PUBLIC, STAFF_ROLES
from dashboard import map_panel as panel
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from dashboard.map_panel import IDS
from geo.admin import loaded_extent
from geo.errors import ZhengtuError
from layers.choropleth import choropleth
from layers.export import to_csv, to_xlsx
from layers.registry import LAYERS, Layer, get_layer
from layers.search import search_entities
from layers.select import parse_area, select
from layers.style import DENSITY_RAMP, map_config
from layers.web import principal, request_connection

dash.register_page(__name__, path="/", name="一张图", title="一张图 · 政图", order=0,
                   nav_key="nav.map", roles=(PUBLIC,))


def visible_layers() -> list[Layer]:
    """The registered layers the caller's role may draw (the public sees boundaries only)."""
    who = principal()
    return [layer for layer in LAYERS.values() if who.may(layer.roles)]


def _view(query: dict[str, str]) -> dict | None:
    """``map=zoom/lon/lat`` from the URL, if well-formed."""
    try:
        zoom, lon, lat = (float(v) for v in query.get("map", "").split("/"))
    except ValueError:
        return None
    if not (0 <= zoom <= 22 and -180 <= lon <= 180 and -85 <= lat <= 85):
        return None
    return {"center": [lon, lat], "zoom": zoom}


def _layer_state(layer: Layer, query: dict[str, str]) -> tuple[bool, float, dict[str, list[str]]]:
    on_list = query.get("layers")
    on = layer.visible if on_list is None else layer.id in on_list.split(",")
    opacity = 1.0
    for part in query.get("opacity", "").split(","):
        name, _, value = part.partition(":")
        if name == layer.id:
            try:
                opacity = min(max(float(value), 0.0), 1.0)
            except ValueError:
                pass
    filters = {}
    for name, spec in layer.filters.items():
        raw = query.get(f"{layer.id}.{name}")
        if raw and spec.kind == "enum":
            filters[name] = [v for v in raw.split(",") if v in spec.values]
    return on, opacity, filters


def layout(lang: str | None = None, **query: str) -> html.Div:
    """Side panel (search, layers, tools, choropleth, selection) and the map filling the rest."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    settings = current_app.config["ZHENGTU_SETTINGS"]
    layers = visible_layers()
    staff = principal().may(STAFF_ROLES)
    with request_connection() as conn:
        bounds = loaded_extent(conn)
    config = map_config(settings.base_map_url, lang, bounds, [layer.id for layer in layers])
    config["view"] = _view(query)
    config["basemaps"] = [dict(b) for b in settings.basemaps]
    blocks = [panel.layer_block(layer, lang, *_layer_state(layer, query)) for layer in layers]
    basemaps = [{"label": "无底图（离线）" if lang == "zh" else "None (offline)", "value": ""}] + [
        {"label": b.get("name", b["id"]), "value": b["id"]} for b in settings.basemaps]
    side = [
        panel.search_box(lang) if staff else None,
        html.H3(t("map.layers", lang)), *blocks,
        html.Div(panel.density_note(lang, DENSITY_RAMP) if staff else None),
        dcc.Dropdown(id=IDS.BASEMAP, options=basemaps, value=query.get("basemap", ""), clearable=False,
                     className="zt-basemap"),
        html.A("导出地图（HTML）" if lang == "zh" else "Export map (HTML)", id=IDS.EXPORT_MAP,
               href="/export/map.html?" + urlencode(query), className="zt-tool zt-export-map"),
    ]
    if staff:
        side += [html.H3("工具" if lang == "zh" else "Tools"), panel.tools(lang),
                 panel.choropleth_picker(lang), panel.selection_panel(layers, lang)]
    side += [html.P(t("map.hint", lang), className="zt-hint"),
             html.Div(t("map.loading", lang), id=IDS.STATUS, className="zt-map-status")]
    return html.Div(className="zt-map-page", children=[
        dcc.Store(id=IDS.CONFIG, data=config),
        html.Aside([c for c in side if c is not None], className="zt-panel"),
        html.Div(id=IDS.MAP, className="zt-map"),
    ])


clientside_callback(ClientsideFunction("zt", "initMap"), Output(IDS.STATUS, "children"),
                    Input(IDS.CONFIG, "data"), State(IDS.MAP, "id"))
clientside_callback(
    ClientsideFunction("zt", "applyLayers"), Output(IDS.MAP, "className"),
    Input(panel.layer_on_id(ALL), "value"), Input(panel.layer_opacity_id(ALL), "value"),
    Input(panel.filter_id(ALL, ALL), "value"), State(panel.layer_on_id(ALL), "id"),
    State(panel.layer_opacity_id(ALL), "id"), State(panel.filter_id(ALL, ALL), "id"))
clientside_callback(ClientsideFunction("zt", "setTool"), Output(IDS.TOOL_STATE, "children"),
                    Input(IDS.TOOL_POLYGON, "n_clicks"), Input(IDS.TOOL_CIRCLE, "n_clicks"),
                    Input(IDS.TOOL_MEASURE, "n_clicks"), Input(IDS.TOOL_CLEAR, "n_clicks"),
                    prevent_initial_call=True)
clientside_callback(ClientsideFunction("zt", "applyChoropleth"), Output(IDS.MAP, "title"),
                    Input(IDS.CHOROPLETH_DATA, "data"))
clientside_callback(ClientsideFunction("zt", "setBasemap"), Output(IDS.BASEMAP, "title"),
                    Input(IDS.BASEMAP, "value"))
clientside_callback(ClientsideFunction("zt", "flyTo"), Output(IDS.SEARCH_RESULTS, "title"),
                    Input({"type": "zt-hit", "id": ALL, "lon": ALL, "lat": ALL, "glon": ALL, "glat": ALL},
                          "n_clicks"),
                    prevent_initial_call=True)


@callback(Output(IDS.SEARCH_RESULTS, "children"), Input(IDS.SEARCH, "value"),
          prevent_initial_call=True)
def run_search(query: str | None) -> list | html.P:
    """Entities matching the query in the caller's region, as buttons that fly the map there."""
    try:
        with request_connection() as conn:
            hits = search_entities(conn, query or "")
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-hint")
    if not hits:
        return html.P("未找到 / nothing found", className="zt-hint")
    return [html.Button([html.Strong(h["name"]), html.Br(), html.Small(f"{h['uscc']} · {h['address']}")],
                        id={"type": "zt-hit", "id": h["id"], "lon": f"{h['lon']:.6f}",
                            "lat": f"{h['lat']:.6f}", "glon": f"{h['glon']:.6f}",
                            "glat": f"{h['glat']:.6f}"}, className="zt-hit", n_clicks=0)
            for h in hits]


def _selection(area: dict | None, layer_id: str | None, limit: int) -> tuple[Layer, dict] | None:
    if not area or not layer_id:
        return None
    layer = get_layer(layer_id)
    with request_connection() as conn:
        return layer, select(conn, layer, parse_area(area), limit=limit)


@callback(Output(IDS.SELECTION_RESULT, "children"), Input(IDS.SELECTION, "data"),
          Input(IDS.SELECTION_LAYER, "value"), prevent_initial_call=True)
def show_selection(area: dict | None, layer_id: str | None) -> html.Div | str:
    """Counts by category and a table of what lies inside the drawn shape."""
    try:
        found = _selection(area, layer_id, 500)
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-hint")
    return panel.selection_summary(found[1], "zh") if found else ""


@callback(Output(IDS.DOWNLOAD, "data"), Input(IDS.EXPORT_CSV, "n_clicks"),
          Input(IDS.EXPORT_XLSX, "n_clicks"), State(IDS.SELECTION, "data"),
          State(IDS.SELECTION_LAYER, "value"), prevent_initial_call=True)
def export_selection(_csv: int, _xlsx: int, area: dict | None, layer_id: str | None) -> dict | None:
    """The selection as CSV or Excel (up to 50,000 rows)."""
    found = _selection(area, layer_id, 50_000)
    if not found:
        return None
    layer, result = found
    if dash.ctx.triggered_id == IDS.EXPORT_XLSX:
        return dcc.send_bytes(to_xlsx(layer, result["rows"]), f"{layer.title_zh}-选区.xlsx")
    return dcc.send_bytes(to_csv(layer, result["rows"]), f"{layer.title_zh}-选区.csv")


@callback(Output(IDS.CHOROPLETH_DATA, "data"), Output(IDS.CHOROPLETH_LEGEND, "children"),
          Input(IDS.CHOROPLETH, "value"), prevent_initial_call=True)
def show_choropleth(indicator: str | None) -> tuple[dict | None, html.Div | str]:
    """Colour districts by the chosen indicator (classed by quantiles)."""
    if not indicator:
        return None, ""
    with request_connection() as conn:
        data = choropleth(conn, indicator)
    return data, panel.choropleth_legend(data)


declare_callback(f"{IDS.SEARCH_RESULTS}.children", *STAFF_ROLES)
declare_callback(f"{IDS.SELECTION_RESULT}.children", *STAFF_ROLES)
declare_callback(f"{IDS.DOWNLOAD}.data", *STAFF_ROLES)
declare_callback(f"..{IDS.CHOROPLETH_DATA}.data...{IDS.CHOROPLETH_LEGEND}.children..", *STAFF_ROLES)
