"""运行大屏 — the operations-centre wall: live map, KPI tiles, event feed, alert ticker, 24 h charts.

Dash renders the frame once; after that ``assets/ops.js`` owns the page: it fetches a snapshot from
``/api/ops/snapshot``, then polls ``/api/ops/changes`` every second and applies only what changed
(map sources via ``setData`` on bounded collections, feed items, KPI text, ``Plotly.extendTraces`` /
``restyle``). No server-side callback runs per tick, so no figure is re-sent. Sized in viewport units
for 1920×1080 and 3840×2160 walls; nothing scrolls.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, clientside_callback, dcc, html
from flask import request

from accounts.roles import ADMIN, MANAGER, OPERATOR
from cityops.wall import STATUSES
from dashboard.i18n import LANG_COOKIE, request_lang, t
from layers.web import principal, request_connection

WALL_ROLES = (OPERATOR, MANAGER, ADMIN)
dash.register_page(__name__, path="/ops", name="运行大屏", title="运行大屏 · 政图", roles=WALL_ROLES,
                   nav_key="nav.ops", order=20)

STATUS_COLORS = {"信息收集": "#ff4d4f", "立案": "#ff9f1c", "派遣": "#ffd23f", "处置": "#3ea6ff",
                 "反馈": "#9b7bff", "核查": "#00d4c8", "结案": "#5c6b7a"}
SENSOR_COLORS = {"normal": "#2ecc71", "alarm": "#ff3b30", "offline": "#8a97a6"}
SENSOR_LABELS = {"normal": ("正常", "normal"), "alarm": ("报警", "alarm"), "offline": ("离线", "offline")}
SOURCE_LABELS = {"hotline": ("12345热线", "Hotline"), "grid": ("网格员", "Grid worker"),
                 "sensor": ("传感器", "Sensor"), "citizen": ("市民", "Citizen"),
                 "inspection": ("巡查", "Inspection")}
SOURCE_COLORS = {"hotline": "#3ea6ff", "grid": "#ffd23f", "sensor": "#ff6b6b", "citizen": "#2ecc71",
                 "inspection": "#b388ff"}


class IDS:
    """Component ids of the wall (ops.js and the browser tests use the same names)."""

    ROOT = "zt-ops-wall"
    CONFIG = "zt-ops-config"
    MAP = "zt-ops-map"
    STATUS = "zt-ops-status"
    HOURLY = "zt-ops-hourly"
    BY_STATUS = "zt-ops-by-status"
    FEED = "zt-ops-feed"
    TICKER = "zt-ops-ticker"
    STALE = "zt-ops-stale"
    SCENE = "zt-ops-scene"
    CLOCK = "zt-ops-clock"


def _label(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def wall_config(region: str, lang: str, query: dict[str, str]) -> dict:
    """What ops.js needs: endpoints, scenes, colours, labels, options from the URL."""
    from cityops.wall import scenes

    with request_connection() as conn:
        scene_list = scenes(conn, region, query.get("city"))
    try:
        quiet = max(10, min(int(query.get("quiet", "300")), 86400))
    except ValueError:
        quiet = 300
    return {
        "snapshot": "/api/ops/snapshot", "changes": "/api/ops/changes", "tiles": "/tiles/admin_areas/{z}/{x}/{y}.mvt",
        "scenes": scene_list, "rotate": query.get("rotate", "1") != "0", "sceneSeconds": 30,
        "quietSeconds": quiet, "staleSeconds": 3, "lang": lang,
        "statusColors": STATUS_COLORS, "sensorColors": SENSOR_COLORS,
        "sources": {k: _label(v, lang) for k, v in SOURCE_LABELS.items()}, "sourceColors": SOURCE_COLORS,
        "statuses": [s for s in STATUSES if s != "结案"],
        "text": {"stale": t("ops.stale", lang), "quiet": t("ops.quiet", lang), "paused": t("ops.paused", lang),
                 "overdue": "超期" if lang == "zh" else "overdue",
                 "noAlerts": "暂无未处理告警" if lang == "zh" else "no open alerts"},
    }


def _kpi(key: str, label: str, extra: str = "", note: str = "") -> html.Div:
    return html.Div(className=f"zt-ops-kpi {extra}".strip(), children=[
        html.Div([label, html.Span(note, className="zt-ops-kpi-note") if note else None],
                 className="zt-ops-kpi-label"),
        html.Div("—", id=f"zt-ops-kpi-{key}", className="zt-ops-kpi-value"),
    ])


def _legend(lang: str) -> html.Div:
    items = [html.Li([html.Span(className="zt-ops-dot", style={"background": c}), s])
             for s, c in STATUS_COLORS.items()]
    sensors = [html.Li([html.Span(className="zt-ops-dot zt-ops-square", style={"background": c}),
                        _label(SENSOR_LABELS[k], lang)]) for k, c in SENSOR_COLORS.items()]
    return html.Div(className="zt-ops-legend", children=[
        html.Ul(items), html.Div(t("ops.legend.sensors", lang), className="zt-ops-legend-title"), html.Ul(sensors)])


def _graph(id_: str, title: str) -> html.Section:
    return html.Section(className="zt-ops-panel zt-ops-chart", children=[
        html.H3(title),
        dcc.Graph(id=id_, className="zt-ops-graph", figure={"data": [], "layout": {
            "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}},
            config={"displayModeBar": False, "staticPlot": True, "responsive": True}),
    ])


def layout(lang: str | None = None, **query: str) -> html.Div:
    """The wall's fixed grid; ops.js fills it."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    who = principal()
    if not who.may(WALL_ROLES):
        return html.Div(t("forbidden", lang), className="zt-page")
    config = wall_config(who.region, lang, query)
    return html.Div(id=IDS.ROOT, className="zt-ops-wall", lang="en" if lang == "en" else "zh-CN", children=[
        dcc.Store(id=IDS.CONFIG, data=config),
        html.Header(className="zt-ops-top", children=[
            html.Div([html.Span(t("ops.title", lang), className="zt-ops-title"),
                      html.Span(id=IDS.SCENE, className="zt-ops-scene")], className="zt-ops-top-left"),
            html.Div([html.Span(id=IDS.STATUS, className="zt-ops-conn"),
                      html.Span("--:--:--", id=IDS.CLOCK, className="zt-ops-clock")], className="zt-ops-top-right"),
        ]),
        html.Section(className="zt-ops-kpis", children=[
            _kpi("today", t("ops.kpi.today", lang)), _kpi("open", t("ops.kpi.open", lang)),
            _kpi("overdue", t("ops.kpi.overdue", lang), "zt-ops-kpi-warn"),
            _kpi("rate", t("ops.kpi.rate", lang), note="近30日" if lang == "zh" else "30 d"),
        ]),
        _graph(IDS.HOURLY, t("ops.chart.hourly", lang)),
        html.Section(className="zt-ops-mapbox", children=[
            html.Div(id=IDS.MAP, className="zt-ops-map"),
            _legend(lang),
        ]),
        html.Section(className="zt-ops-panel zt-ops-feedbox", children=[
            html.H3(t("ops.feed", lang)), html.Ul(id=IDS.FEED, className="zt-ops-feed"),
        ]),
        _graph(IDS.BY_STATUS, t("ops.chart.status", lang)),
        html.Section(className="zt-ops-tickerbox", children=[
            html.Span(t("ops.alerts", lang), className="zt-ops-ticker-label"),
            html.Ul(id=IDS.TICKER, className="zt-ops-ticker"),
        ]),
        html.Div(id=IDS.STALE, className="zt-ops-stale", hidden=True, role="alert"),
    ])


clientside_callback(ClientsideFunction("ztOps", "initWall"), Output(IDS.STATUS, "title"),
                    Input(IDS.CONFIG, "data"), State(IDS.ROOT, "id"))
