"""一张图 — the one map: boundaries and regulated entities from the app's own vector tiles.

The map itself is MapLibre GL JS (served from ``assets/vendor``) driven by ``assets/map.js``:
Plotly's map cannot raise click events for vector-tile features, and popups need them.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from flask import current_app, request

from accounts.roles import PUBLIC
from dashboard.i18n import LANG_COOKIE, request_lang, t
from geo.admin import loaded_extent
from layers.registry import LAYERS, Layer
from layers.style import DENSITY_RAMP, map_config
from layers.web import principal, request_connection

dash.register_page(__name__, path="/", name="一张图", title="一张图 · 政图", order=0,
                   nav_key="nav.map", roles=(PUBLIC,))

MAP_ID = "zt-map"
CONFIG_ID = "zt-map-config"
TOGGLE_ID = "zt-layer-toggle"
STATUS_ID = "zt-map-status"


def visible_layers() -> list[Layer]:
    """The registered layers the caller's role may draw (the public sees boundaries only)."""
    who = principal()
    return [layer for layer in LAYERS.values() if who.may(layer.roles)]


def legend(lang: str, layers: list[Layer]) -> html.Div:
    """Legend swatches for the given layers, from the registry's declarations."""
    blocks = []
    for layer in layers:
        items = [html.Li([html.Span(className=f"zt-swatch zt-swatch-{layer.geometry}",
                                    style={"backgroundColor": e.color, "borderColor": e.color}),
                          e.label_zh if lang == "zh" else e.label_en]) for e in layer.legend]
        block = [html.H4(layer.title_zh if lang == "zh" else layer.title_en),
                 html.Ul(items, className="zt-legend-list")]
        if layer.aggregate_sql:
            block.append(density_legend(lang, layer.aggregate_max_zoom))
        blocks.append(html.Div(block))
    return html.Div(blocks, className="zt-legend")


def density_legend(lang: str, max_zoom: int) -> html.Div:
    """The colour ramp used for counts when a layer is aggregated at low zoom."""
    ramp = ", ".join(DENSITY_RAMP)
    return html.Div(className="zt-density", children=[
        html.Div(t("map.density", lang).format(zoom=max_zoom), className="zt-density-title"),
        html.Div(className="zt-density-bar", style={"background": f"linear-gradient(90deg, {ramp})"}),
        html.Div([html.Span(t("map.density.low", lang)), html.Span(t("map.density.high", lang))],
                 className="zt-density-ends"),
    ])


def layout(lang: str | None = None, **_query: str) -> html.Div:
    """The page: a side panel (layers, legend, hint) and the map filling the rest."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    settings = current_app.config["ZHENGTU_SETTINGS"]
    with request_connection() as conn:
        bounds = loaded_extent(conn)
    layers = visible_layers()
    options = [{"label": layer.title_zh if lang == "zh" else layer.title_en, "value": layer.id}
               for layer in layers]
    return html.Div(className="zt-map-page", children=[
        dcc.Store(id=CONFIG_ID, data=map_config(settings.base_map_url, lang, bounds,
                                                     [layer.id for layer in layers])),
        html.Aside(className="zt-panel", children=[
            html.H3(t("map.layers", lang)),
            dcc.Checklist(id=TOGGLE_ID, options=options, className="zt-layer-toggle",
                          value=[layer.id for layer in layers if layer.visible]),
            html.Details(open=True, className="zt-legend-details", children=[
                html.Summary(t("map.legend", lang)), legend(lang, layers)]),
            html.P(t("map.hint", lang), className="zt-hint"),
            html.Div(t("map.loading", lang), id=STATUS_ID, className="zt-map-status"),
        ]),
        html.Div(id=MAP_ID, className="zt-map"),
    ])


clientside_callback(
    ClientsideFunction(namespace="zt", function_name="initMap"),
    Output(STATUS_ID, "children"),
    Input(CONFIG_ID, "data"),
    State(MAP_ID, "id"),
)
clientside_callback(
    ClientsideFunction(namespace="zt", function_name="setVisibility"),
    Output(MAP_ID, "className"),
    Input(TOGGLE_ID, "value"),
    State(CONFIG_ID, "data"),
)
