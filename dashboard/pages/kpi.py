"""指标看板 — managers' KPIs: scorecards, a classed map with drill-down, ranking, trend, records.

The page's state is its URL (``?kpi=&region=&from=&to=&category=``): the layout computes everything
from it through ``kpi.report`` (the same body ``GET /api/kpi/<id>`` returns and the exports write),
and a clientside callback turns a map click or a filter change into a new URL. So a view can be
bookmarked, exported and checked number for number.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, callback, clientside_callback, dcc, html
from flask import request

from accounts.roles import ADMIN, LEGAL_REVIEWER, MANAGER, OPERATOR
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from geo.errors import ZhengtuError
from kpi import compute, regions, targets
from kpi.classes import NO_DATA, colour, label, legend
from kpi.definitions import GROUPS, available
from kpi.export import KIND_LABELS, fmt
from kpi.report import parse_query, report, scorecard
from layers.web import principal, request_connection

READERS = (LEGAL_REVIEWER, OPERATOR, MANAGER, ADMIN)
SETTERS = (MANAGER, ADMIN)
dash.register_page(__name__, path="/kpi", name="指标看板", title="指标看板 · 政图", roles=READERS,
                   nav_key="nav.kpi", order=30)
DEFAULT_KPI = {"supervision": "task_on_time", "cases": "case_on_time", "cityops": "event_on_time"}
RECORD_LIMIT = 50
MAP_HEIGHT, MAP_WIDTH = 430, 560  # px; the width is the narrowest the panel gets (tablet)
GOOD = {"up": "越高越好", "down": "越低越好"}
MET = {True: "已达标", False: "未达标", None: "无数据"}
FORECAST_MET = {True: "预计达标", False: "预计未达标", None: "无法预测"}
GRAPH_CONFIG = {"displaylogo": False, "locale": "zh-CN",
                "modeBarButtonsToRemove": ["select2d", "lasso2d", "toImage"]}


class IDS:
    """Component ids of the KPI page."""

    URL = "zt-kpi-url"
    STATE = "zt-kpi-state"
    KPI = "zt-kpi-select"
    CATEGORY = "zt-kpi-category"
    PERIOD = "zt-kpi-period"
    MAP = "zt-kpi-map"
    TARGET = "zt-kpi-target-value"
    TARGET_SET = "zt-kpi-target-set"
    TARGET_MSG = "zt-kpi-target-msg"


def href(**params: str | None) -> str:
    """A /kpi URL with the given query (empty values dropped)."""
    return "/kpi?" + urlencode({k: v for k, v in params.items() if v})


def _delta(change: float | None, direction: str, unit: str) -> html.Span:
    if change is None:
        return html.Span("较上期 无数据", className="zt-kpi-delta")
    good = change == 0 or (change > 0) == (direction == "up")
    arrow = "▲" if change > 0 else "▼" if change < 0 else "＝"
    suffix = " 个百分点" if unit == "%" else f" {unit}"
    return html.Span(f"较上期 {arrow} {abs(change):.1f}{suffix}",
                     className="zt-kpi-delta " + ("zt-kpi-good" if good else "zt-kpi-bad"))


def _sparkline(series: list[dict]) -> dcc.Graph:
    fig = go.Figure(go.Scatter(x=[s["day"] for s in series], y=[s["cum_value"] for s in series], mode="lines",
                               line={"width": 2, "color": "#1f4e79"}, hovertemplate="%{x}：%{y}<extra></extra>",
                               connectgaps=True))
    fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=44, xaxis={"visible": False},
                      yaxis={"visible": False}, paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      showlegend=False)
    return dcc.Graph(figure=fig, config={"displayModeBar": False, "staticPlot": True}, className="zt-kpi-spark")


def _card(card: dict, link: str, chosen: bool) -> dcc.Link:
    target = f"目标 {fmt(card['target'], card['unit'])}" if card["target"] is not None else "未设目标"
    return dcc.Link(href=link, className="zt-kpi-card" + (" zt-kpi-card-on" if chosen else ""),
                    id=f"zt-kpi-card-{card['id']}", children=[
        html.Div(card["name"], className="zt-kpi-card-name"),
        html.Div(fmt(card["value"], card["unit"]), className="zt-kpi-card-value"),
        html.Div([_delta(card["change"], card["direction"], card["unit"]), html.Span(" · " + target)],
                 className="zt-kpi-card-sub"),
        _sparkline(card["series"]),
    ])


def _map(body: dict, shapes: dict, classes: list[dict], border: dict | None) -> html.Div:
    if not shapes["features"]:  # the graph stays (the drill-down callback listens to it), empty
        return html.Div([dcc.Graph(id=IDS.MAP, figure=go.Figure(), style={"display": "none"}),
                         html.P("此级别没有可绘制的下级区域（单元网格尚未划分或无记录），见下方明细。",
                                className="zt-hint", id=IDS.MAP + "-none")])
    by_code = {c["region"]: c for c in body["children"] if c["region"]}
    grid_level = body["level"] == "district"  # ~100 m cells: a thick edge keeps them visible
    fig = go.Figure()
    groups: dict[str, list[str]] = {}
    for f in shapes["features"]:
        groups.setdefault(colour(by_code.get(f["id"], {}).get("value"), classes), []).append(f["id"])
    unit = body["unit"]
    for col, codes in groups.items():
        kids = [by_code.get(code, {"name": code, "value": None, "numerator": None, "denominator": None})
                for code in codes]
        fig.add_trace(go.Choroplethmap(
            geojson=shapes, featureidkey="id", locations=codes, z=[1] * len(codes),
            colorscale=[[0, col], [1, col]], showscale=False,
            marker={"line": {"color": col, "width": 4} if grid_level else {"color": "#ffffff", "width": 0.8}},
            customdata=[[k["name"], fmt(k["value"], unit), k["numerator"], k["denominator"]] for k in kids],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}（%{customdata[2]} / %{customdata[3]}）"
                          "<extra>点击下钻</extra>"))
    # The region's own boundary as context (a district's grids are small); it raises no clicks.
    frame = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": border, "properties": {}}]}
    centre, zoom = _view(frame if border and body["level"] == "district" else shapes)
    layers = [{"sourcetype": "geojson", "source": frame, "type": "line", "color": "#5b6b7b", "line": {"width": 1.2},
               "below": "traces"}] if border else []
    # "white-bg": no base-map tiles at all (offline); the boundaries are the map.
    fig.update_layout(map={"style": "white-bg", "center": centre, "zoom": zoom, "layers": layers},
                      margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=MAP_HEIGHT,
                      paper_bgcolor="rgba(0,0,0,0)", showlegend=False)
    return html.Div(dcc.Graph(id=IDS.MAP, figure=fig, config={**GRAPH_CONFIG, "scrollZoom": False},
                              className="zt-kpi-map"))


def _view(shapes: dict) -> tuple[dict, float]:
    """Centre and zoom that fit the shapes into the map panel (Web Mercator, 512-px tiles)."""
    xs, ys = [], []
    for f in shapes["features"]:
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            xs += [p[0] for p in poly[0]]
            ys += [p[1] for p in poly[0]]

    def merc(lat: float) -> float:
        return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))
    dx = max(max(xs) - min(xs), 1e-4)
    dy = max(merc(max(ys)) - merc(min(ys)), 1e-4)
    zoom = min(math.log2(MAP_WIDTH * 360 / (512 * dx)), math.log2(MAP_HEIGHT * 360 / (512 * dy))) - 0.15
    return {"lon": (min(xs) + max(xs)) / 2, "lat": (min(ys) + max(ys)) / 2}, round(zoom, 2)


def _legend(classes: list[dict], unit: str) -> html.Ul:
    items = [html.Li([html.Span(className="zt-kpi-swatch", style={"background": c["color"]}), label(c, unit)])
             for c in classes]
    items.append(html.Li([html.Span(className="zt-kpi-swatch", style={"background": NO_DATA}), "无数据"]))
    return html.Ul(items, className="zt-kpi-legend", **{"aria-label": "图例"})


def _ranking(body: dict, base: dict) -> html.Table:
    unit = body["unit"]
    with_rank = [r for r in body["ranking"] if r["rank"]]
    last = max((r["rank"] for r in with_rank), default=0)
    spread = last > 1  # all equal: nobody is best or worst
    best = {r["region"] for r in with_rank if spread and r["rank"] <= 3 and r["rank"] < last}
    worst = {r["region"] for r in with_rank if spread and r["rank"] == last}

    def change(r: dict) -> str:
        c = r["rank_change"]
        return "—" if c is None else "＝" if c == 0 else f"↑{c}" if c > 0 else f"↓{-c}"

    head = html.Thead(html.Tr([html.Th(h) for h in ("排名", "区域", "值", "分子", "分母", "上期", "名次变化")]))
    rows = []
    for r in body["ranking"]:
        name = (dcc.Link(r["name"], href=href(**{**base, "region": r["region"]}))
                if r["region"] else r["name"])
        cls = "zt-kpi-best" if r["region"] in best else "zt-kpi-worst" if r["region"] in worst else ""
        rows.append(html.Tr(className=cls, children=[
            html.Td(r["rank"] or "—"), html.Td(name), html.Td(fmt(r["value"], unit)),
            html.Td(_num(r["numerator"])), html.Td(_num(r["denominator"])),
            html.Td(fmt(r["previous_value"], unit)), html.Td(change(r))]))
    return html.Table([head, html.Tbody(rows)], className="zt-table zt-kpi-rank", id="zt-kpi-ranking")


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}" if float(x).is_integer() else f"{x:,.2f}"


def _trend(body: dict) -> dcc.Graph:
    s = body["series"]
    days = [r["day"] for r in s]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=days, y=[r["value"] for r in s], name="当日值", marker_color="#9ecae1",
                         hovertemplate="%{x} 当日：%{y}<extra></extra>"))
    fig.add_trace(go.Scatter(x=days, y=[r["cum_value"] for r in s], name="累计值", mode="lines",
                             line={"color": "#1f4e79", "width": 2.5}, hovertemplate="%{x} 累计：%{y}<extra></extra>"))
    if body["target"] is not None:
        fig.add_hline(y=body["target"], line_dash="dash", line_color="#c0392b", annotation_text="目标",
                      annotation_position="top left")
    fc = body["forecast"]
    if fc["value"] is not None and fc["method"] == "linear":
        fig.add_trace(go.Scatter(x=[days[-1]], y=[fc["value"]], name="期末预测", mode="markers",
                                 marker={"symbol": "diamond-open", "size": 11, "color": "#e67e22"},
                                 hovertemplate="期末预测：%{y}<extra></extra>"))
    fig.update_layout(margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=260, legend={"orientation": "h", "y": 1.12},
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="#fff", bargap=0.2,
                      yaxis={"title": body["unit"], "gridcolor": "#eee"}, xaxis={"tickformat": "%m-%d"})
    return dcc.Graph(figure=fig, config=GRAPH_CONFIG, id="zt-kpi-trend")


def _stages(stages: dict[str, int]) -> dcc.Graph:
    fig = go.Figure(go.Bar(x=list(stages), y=list(stages.values()), marker_color="#6baed6",
                           hovertemplate="%{x}：%{y} 件<extra></extra>"))
    fig.update_layout(margin={"l": 40, "r": 10, "t": 10, "b": 30}, height=220, paper_bgcolor="rgba(0,0,0,0)",
                      plot_bgcolor="#fff", yaxis={"title": "件", "gridcolor": "#eee"})
    return dcc.Graph(figure=fig, config=GRAPH_CONFIG, id="zt-kpi-stages")


def _record_link(r: dict) -> object:
    if r["kind"] == "event":  # the event on the dispatch desk: its reports and closed-loop steps
        return dcc.Link(f"事件 {r['id']}", href=f"/ops/desk?event={r['id']}")
    if r["kind"] == "case":  # the case page lists its stages, documents and evidence
        return dcc.Link(f"案件 {r['id']}", href=f"/case/{r['id']}")
    if r["entity_id"]:
        return dcc.Link(f"{KIND_LABELS.get(r['kind'], r['kind'])} {r['id']}", href=f"/entity/{r['entity_id']}")
    return f"{KIND_LABELS.get(r['kind'], r['kind'])} {r['id']}"


def _records(rows: list[dict], kind: str) -> html.Table | html.P:
    if not rows:
        return html.P("统计期内没有记录 / no records", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(h) for h in ("记录", "名称", "日期", "分子", "分母", "区县", "网格")]))
    body = [html.Tr([html.Td(_record_link(r)), html.Td(r["label"]), html.Td(r["day"]), html.Td(_num(r["numerator"])),
                     html.Td(_num(r["denominator"])), html.Td(r["district"]), html.Td(r["grid"] or "—")])
            for r in rows]
    return html.Table([head, html.Tbody(body)], className="zt-table", id="zt-kpi-records")


def _definition(d: dict) -> html.Details:
    return html.Details(className="zt-kpi-def", id="zt-kpi-definition", open=True, children=[
        html.Summary(f"指标定义与公式：{d['name_zh']}（{d['name_en']}）"),
        html.Dl([html.Dt("含义"), html.Dd(d["meaning_zh"]), html.Dt("分子"), html.Dd(d["numerator_zh"]),
                 html.Dt("分母"), html.Dd(d["denominator_zh"]), html.Dt("公式"), html.Dd(d["formula"]),
                 html.Dt("单位 · 方向"), html.Dd(f"{d['unit']} · {GOOD[d['direction']]}"),
                 html.Dt("责任部门"), html.Dd(d["owner"]), html.Dt("可加"),
                 html.Dd("是（下级区域分子、分母之和等于上级）" if d["additive"] else "否")]),
        html.Pre(d["sql"], className="zt-kpi-sql"),
    ])


def _target_box(body: dict, who_may_set: bool) -> html.Div:
    p, fc, unit = body["progress"], body["forecast"], body["unit"]
    detail = body["target_detail"]
    lines = []
    if p is None:
        lines.append(html.P("未设定目标。", className="zt-hint"))
    else:
        src = "用户设定" if detail["source"] == "user" else detail["source"]
        lines.append(html.P([html.Strong(f"目标 {fmt(p['target'], unit)}"),
                             f"（{src}，区域 {detail['region']}）　当前 {fmt(body['value'], unit)}，",
                             MET[p["met"]],
                             f"；期末预测 {fmt(fc['value'], unit)}，",
                             FORECAST_MET[p["forecast_met"]]],
                            id="zt-kpi-progress"))
        if detail.get("note"):
            lines.append(html.P(detail["note"], className="zt-hint"))
    method = "线性外推（按统计期逐日累计值）" if fc["method"] == "linear" else "统计期已结束，取实际值"
    lines.append(html.P(f"预测方法：{method}，"
                        f"已过 {fc['days_elapsed']} / {fc['days_total']} 天。", className="zt-hint"))
    if who_may_set:
        lines.append(html.Div(className="zt-filters", children=[
            html.Label(["为本区域、本统计期设定目标", dcc.Input(id=IDS.TARGET, type="number", min=0, step=0.1,
                                                          style={"width": "8rem"})]),
            html.Button("保存目标", id=IDS.TARGET_SET, className="zt-button", style={"width": "7rem"}),
        ]))
        lines.append(html.Div(id=IDS.TARGET_MSG, role="status"))
    return html.Div(lines, className="zt-kpi-target")


def layout(lang: str | None = None, kpi: str | None = None, region: str | None = None,
           category: str | None = None, **query: str) -> html.Div:
    """Everything computed from the URL's query; errors in it are shown, not raised."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    who = principal()
    if not who.may(READERS):
        return html.Div(t("forbidden", lang), className="zt-page")
    try:
        with request_connection() as conn:
            return _page(conn, who, kpi, region, query.get("from"), query.get("to"), category)
    except ZhengtuError as exc:
        return html.Div(className="zt-page", children=[
            html.H2("指标看板"), html.P(exc.message, className="zt-login-error", id="zt-kpi-error"),
            dcc.Link("返回默认视图", href="/kpi")])


def _page(conn, who, kpi_id, region, start, end, category) -> html.Div:  # noqa: ANN001, PLR0913
    kpis = available(conn)
    kpi_id = kpi_id or (kpis[0].id if kpis else "")
    q = parse_query(conn, who.region, kpi_id, region, start, end, category)
    body = report(conn, q.kpi, q.region, q.period, q.category)
    base = {"kpi": q.kpi.id, "region": q.region.code, "from": body["from"], "to": body["to"],
            "category": q.category}
    group = [k for k in kpis if k.group == q.kpi.group]
    cards = [_card(scorecard(conn, k, q.region, q.period, q.category if k.category_kind == q.kpi.category_kind
                             else None), href(**{**base, "kpi": k.id, "category": None}), k.id == q.kpi.id)
             for k in group]
    grids = [c["region"] for c in body["children"] if c["region"]] if q.region.level == "district" else []
    shapes = regions.child_geojson(conn, q.region, grids)
    values = [c["value"] for c in body["children"] if c["value"] is not None and c["region"]]
    classes = legend(values, q.kpi.direction)
    rows = compute.records(conn, q.kpi, q.region, q.period, q.category, limit=RECORD_LIMIT)
    crumbs = regions.parent_chain(conn, q.region)
    cats = compute.categories(conn, q.kpi)
    stages = compute.case_stages(conn, q.region, q.period, q.category if q.kpi.category_kind == "entity"
                                 else None) if q.kpi.group == "cases" else None
    export_q = urlencode({k: v for k, v in base.items() if v})
    d = body["definition"]
    level_name = {"city": "地市", "district": "区县", "grid": "单元网格"}.get(q.region.child_level or "", "")
    trail: list = []
    for i, (code, name) in enumerate(crumbs):
        trail.append(" › " if i else "")
        trail.append(dcc.Link(name, href=href(**{**base, "region": code})) if i < len(crumbs) - 1 else
                     html.Strong(name, id="zt-kpi-region-name"))
    return html.Div(className="zt-page zt-kpi", children=[
        dcc.Location(id=IDS.URL, refresh="callback-nav"),
        dcc.Store(id=IDS.STATE, data=base),
        html.Div(className="zt-kpi-head", children=[
            html.H2("指标看板"),
            html.Nav(trail, className="zt-kpi-crumbs", **{"aria-label": "区域层级"}),
        ]),
        html.Div(className="zt-filters", children=[
            html.Label(["指标", dcc.Dropdown(id=IDS.KPI, value=q.kpi.id, clearable=False, style={"minWidth": "15rem"},
                                           options=[{"label": f"{GROUPS[k.group][0]} · {k.name_zh}", "value": k.id}
                                                    for k in kpis])]),
            html.Label(["统计期", dcc.DatePickerRange(id=IDS.PERIOD, start_date=body["from"], end_date=body["to"],
                                                   display_format="YYYY-MM-DD", first_day_of_week=1,
                                                   minimum_nights=0)]),
            html.Label(["类别", dcc.Dropdown(id=IDS.CATEGORY, value=q.category, placeholder="全部类别",
                                           options=[{"label": n, "value": c} for c, n in cats],
                                           style={"minWidth": "10rem"})]),
            html.A("导出 Excel", href="/kpi/export.xlsx?" + export_q, className="zt-kpi-export", id="zt-kpi-xlsx"),
            html.A("导出 PDF 简报", href="/kpi/export.pdf?" + export_q, className="zt-kpi-export", id="zt-kpi-pdf"),
        ]),
        html.Div(cards, className="zt-kpi-cards"),
        html.Div(className="zt-kpi-grid", children=[
            html.Section(className="zt-kpi-panel", children=[
                html.H3(f"{d['name_zh']} · 按{level_name or '记录'}" + ("（点击区域下钻）" if level_name else "")),
                html.Div([_map(body, shapes, classes, regions.outline(conn, q.region)), _legend(classes, body["unit"])],
                         className="zt-kpi-mapwrap"),
            ]),
            html.Section(className="zt-kpi-panel", children=[
                html.H3([f"{body['region_name']}：", html.Span(fmt(body["value"], body["unit"]), id="zt-kpi-value"),
                         html.Small(f"（{_num(body['numerator'])} / {_num(body['denominator'])}）")]),
                _target_box(body, who.may(SETTERS)),
                html.H3(f"{level_name}排名（绿：最好，红：最差）" if level_name else "排名"),
                html.Div(_ranking(body, base), className="zt-table-wrap zt-kpi-rankwrap"),
            ]),
        ]),
        html.Div(className="zt-kpi-grid", children=[
            html.Section([html.H3("走势（当日值与累计值）"), _trend(body)], className="zt-kpi-panel"),
            html.Section([html.H3("案件阶段分布（统计期内立案）"), _stages(stages)], className="zt-kpi-panel")
            if stages else _definition(d),
        ]),
        _definition(d) if stages else None,
        html.H3(f"明细（最近 {RECORD_LIMIT} 条；点击记录查看对象、案件与证据）"),
        html.Div(_records(rows, q.kpi.id), className="zt-table-wrap"),
    ])


# A map click or a filter change becomes a new URL; the page re-renders from it (no server state).
clientside_callback(
    """
    function(click, kpi, start, end, category, state) {
        const trig = (dash_clientside.callback_context.triggered || [])[0];
        if (!trig || !state) { return dash_clientside.no_update; }
        const q = Object.assign({}, state);
        if (trig.prop_id.startsWith('zt-kpi-map')) {
            const p = click && click.points && click.points[0];
            if (!p || !p.location) { return dash_clientside.no_update; }
            q.region = p.location;
        } else if (trig.prop_id.startsWith('zt-kpi-select')) {
            if (kpi === state.kpi) { return dash_clientside.no_update; }
            q.kpi = kpi; delete q.category;
        } else if (trig.prop_id.startsWith('zt-kpi-category')) {
            if ((category || null) === (state.category || null)) { return dash_clientside.no_update; }
            q.category = category || '';
        } else {
            if (!start || !end || (start === state.from && end === state.to)) { return dash_clientside.no_update; }
            q.from = start.slice(0, 10); q.to = end.slice(0, 10);
        }
        const params = new URLSearchParams();
        Object.keys(q).forEach(k => { if (q[k]) { params.set(k, q[k]); } });
        return '/kpi?' + params.toString();
    }
    """,
    Output(IDS.URL, "href"), Input(IDS.MAP, "clickData"), Input(IDS.KPI, "value"),
    Input(IDS.PERIOD, "start_date"), Input(IDS.PERIOD, "end_date"), Input(IDS.CATEGORY, "value"),
    State(IDS.STATE, "data"), prevent_initial_call=True)


@callback(Output(IDS.TARGET_MSG, "children"), Input(IDS.TARGET_SET, "n_clicks"), State(IDS.TARGET, "value"),
          State(IDS.STATE, "data"), prevent_initial_call=True)
def save_target(_clicks: int, value: float | None, state: dict | None) -> html.P:
    """Set the target for the KPI, region and period on screen (managers and administrators)."""
    state = state or {}
    try:
        with request_connection() as conn:
            q = parse_query(conn, principal().region, state.get("kpi") or "", state.get("region"), state.get("from"),
                            state.get("to"))
            targets.set_target(conn, q.kpi, q.region, {"target": value, "from": state.get("from"),
                                                       "to": state.get("to")})
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-login-error")
    return html.P(["已保存目标 / target saved — ", dcc.Link("刷新查看", href=href(**state))], id="zt-kpi-target-saved")


declare_callback(f"{IDS.TARGET_MSG}.children", *SETTERS)
