"""调度台 — the operator's desk: the queue, registering an event, and driving it through the loop.

Every write goes through ``cityops.events`` (``register``, ``transition``), the same functions as
``POST /api/events`` and ``POST /api/events/<id>/transitions``, inside the caller's jurisdiction
(row-level security). Dash's renderer sends the CSRF header with each callback. Managers see the
queue and the history read-only: their page has no forms and the write callbacks refuse them.
"""

from __future__ import annotations

from datetime import datetime

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, dcc, html
from flask import request

from accounts.roles import ADMIN, MANAGER, OPERATOR
from cityops import categories, sensors
from cityops import events as ev
from cityops.wall import SHANGHAI
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from dashboard.pages.ops import STATUS_COLORS
from geo.errors import ZhengtuError
from layers.web import principal, request_connection

READERS = (OPERATOR, MANAGER, ADMIN)
WRITERS = (OPERATOR, ADMIN)
dash.register_page(__name__, path="/ops/desk", name="调度台", title="调度台 · 政图", roles=READERS,
                   nav_key="nav.ops_desk", order=21)

QUEUE_LIMIT = 200
ACTION_LABELS = {"立案": "立案", "派遣": "派遣", "处置": "处置（代登记）", "反馈": "反馈", "核查": "核查",
                 "结案": "核查通过，结案"}
REWORK_LABEL = "核查不通过，返工"
DISTRICTS_SQL = """
SELECT trim(adcode), name FROM admin_areas
WHERE level = 'district' AND left(adcode, length(%(region)s)) = %(region)s ORDER BY adcode LIMIT 200
"""
BOUNDS_SQL = """
SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)
FROM (SELECT ST_Extent(geom)::box2d AS b FROM admin_areas
      WHERE left(adcode, length(%(region)s)) = %(region)s AND level = 'district') s
"""


class IDS:
    """Component ids of the desk (tests and ops.js use the same names)."""

    CONFIG = "zt-desk-config"
    MAP = "zt-desk-map"
    MAP_STATUS = "zt-desk-map-status"
    STATUS = "zt-desk-status"
    DISTRICT = "zt-desk-district"
    CATEGORY = "zt-desk-category"
    OVERDUE = "zt-desk-overdue"
    REFRESH = "zt-desk-refresh"
    TICK = "zt-desk-tick"
    QUEUE = "zt-desk-queue"
    GEOJSON = "zt-desk-geojson"
    SELECTED = "zt-desk-selected"
    DETAIL = "zt-desk-detail"
    NOTE = "zt-desk-note"
    DEPARTMENT = "zt-desk-department"
    MESSAGE = "zt-desk-message"
    ACTED = "zt-desk-acted"
    REG_CATEGORY = "zt-desk-reg-category"
    LON = "zt-desk-lon"
    LAT = "zt-desk-lat"
    DESCRIPTION = "zt-desk-description"
    SOURCE = "zt-desk-source"
    REGISTER = "zt-desk-register"
    REG_MESSAGE = "zt-desk-reg-message"
    REGISTERED = "zt-desk-registered"
    ALERTS = "zt-desk-alerts"
    ACK_MESSAGE = "zt-desk-ack-message"
    ACKED = "zt-desk-acked"


ALERT_LIMIT = 30


def ack_id(alert_id: int | object) -> dict:
    """Pattern id of an open alert's "acknowledge" button."""
    return {"type": "zt-desk-ack", "id": alert_id}


def _kind_name(kind: str) -> str:
    spec = sensors.KINDS.get(kind)
    return spec.name_zh if spec else kind


def alerts_list(rows: list[dict], can_write: bool) -> html.Div:
    """Open sensor alerts, newest first: what crossed which threshold, and the event it opened."""
    if not rows:
        return html.P("没有未确认的告警 / no open alerts", className="zt-hint")
    items = [html.Li(className="zt-desk-alert", **{"data-alert": str(a["id"])}, children=[
        html.Span(_time(a["raised_at"]), className="zt-desk-alert-time"),
        html.Span(f"{a['sensor_name']}（{_kind_name(a['kind'])}）读数 {a['value']:g}，"
                  f"阈值 {a['threshold']:g}" + (f" · 事件 {a['event_id']}" if a.get("event_id") else "")),
        html.Button("确认", id=ack_id(a["id"]), n_clicks=0, className="zt-desk-pick") if can_write else None,
    ]) for a in rows]
    return html.Ul(items, className="zt-desk-alerts")


def open_alerts() -> html.Div:
    """The caller's open alerts, with 确认 buttons for those who may acknowledge."""
    with request_connection() as conn:
        rows = sensors.list_alerts(conn, open_only=True, limit=ALERT_LIMIT)
    return alerts_list(rows, principal().may(WRITERS))


def pick_id(event_id: int | object) -> dict:
    """Pattern id of a queue row's "select" button."""
    return {"type": "zt-desk-pick", "id": event_id}


def action_id(to: object) -> dict:
    """Pattern id of an action button (the target stage)."""
    return {"type": "zt-desk-do", "to": to}


def _time(value: str | None) -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def queue_table(rows: list[dict], selected: int | None = None) -> html.Div:
    """The queue as text (user text never becomes markup)."""
    if not rows:
        return html.P("队列为空 / no events", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(h) for h in ("", "编号", "类别", "环节", "区县", "上报", "期限", "")]))
    body = []
    for r in rows:
        cls = " ".join(c for c in ("zt-desk-overdue" if r["overdue"] else "",
                                   "zt-desk-current" if r["id"] == selected else "") if c)
        body.append(html.Tr(className=cls or None, **{"data-id": str(r["id"])}, children=[
            html.Td(html.Button("选择", id=pick_id(r["id"]), className="zt-desk-pick", n_clicks=0)),
            html.Td(str(r["id"])), html.Td(r.get("category_name") or r["category"]),
            html.Td(r["status"], style={"color": STATUS_COLORS.get(r["status"], "#333"), "fontWeight": 600}),
            html.Td(r.get("district_name") or r["district_adcode"]), html.Td(_time(r["reported_at"])),
            html.Td(_time(r["deadline"])),
            html.Td("超期" if r["overdue"] else "", className="zt-desk-flag"),
        ]))
    return html.Table([head, html.Tbody(body)])


def _geojson(rows: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
         "properties": {"id": r["id"], "status": r["status"], "overdue": bool(r["overdue"])}}
        for r in rows if r.get("lon") is not None]}


def load_queue(statuses: list[str] | None, district: str | None, category: str | None,
               overdue: bool) -> list[dict]:
    """Open events by default (newest report first), with the district's name."""
    with request_connection() as conn:
        rows = ev.list_events(conn, status=statuses or list(ev.OPEN_STATUSES), district=district or None,
                              category=category or None, overdue=True if overdue else None,
                              limit=QUEUE_LIMIT)
        with conn.cursor() as cur:
            cur.execute(DISTRICTS_SQL, {"region": principal().region})
            names = dict(cur.fetchall())
    for r in rows:
        r["district_name"] = names.get(r["district_adcode"], r["district_adcode"])
    return rows


def _options() -> tuple[list[dict], list[dict], list[dict], list[str], list[float]]:
    region = principal().region
    with request_connection() as conn, conn.cursor() as cur:
        cur.execute(DISTRICTS_SQL, {"region": region})
        districts = [{"label": f"{name}（{code}）", "value": code} for code, name in cur.fetchall()]
        cur.execute(BOUNDS_SQL, {"region": region})
        bounds = cur.fetchone()
        cats = categories.from_db(conn)
    leaves = [c for c in cats.values() if c.time_limit_hours is not None]
    cat_options = [{"label": f"{c.code} {cats[c.parent].name_zh if c.parent in cats else ''}·{c.name_zh}"
                               f"（{c.time_limit_hours:g}工时）", "value": c.code} for c in leaves]
    tops = [{"label": f"{c.code} {c.name_zh}（{c.kind}）", "value": c.code} for c in cats.values() if not c.parent]
    departments = sorted({c.department for c in cats.values() if c.department})
    box = [float(v) for v in bounds] if bounds and bounds[0] is not None else [109.6, 20.2, 117.4, 25.6]
    return districts, tops, cat_options, departments, box


def _register_form(cat_options: list[dict]) -> html.Div:
    sources = [{"label": label, "value": key} for key, label in ev.SOURCE_LABELS.items()]
    return html.Div(className="zt-desk-card", children=[
        html.H3("登记事件（在地图上点击定位，或输入经纬度）"),
        html.Div(className="zt-desk-form", children=[
            html.Label(["类别", dcc.Dropdown(id=IDS.REG_CATEGORY, options=cat_options, placeholder="选择类别")],
                       className="zt-desk-wide"),
            html.Label(["来源", dcc.Dropdown(id=IDS.SOURCE, options=sources, value="hotline", clearable=False)]),
            html.Label(["经度 lon", dcc.Input(id=IDS.LON, type="number", step="any")]),
            html.Label(["纬度 lat", dcc.Input(id=IDS.LAT, type="number", step="any")]),
            html.Label(["描述", dcc.Input(id=IDS.DESCRIPTION, type="text", maxLength=2000)],
                       className="zt-desk-wide"),
            html.Button("登记", id=IDS.REGISTER, n_clicks=0, className="zt-desk-btn"),
        ]),
        html.Div(id=IDS.REG_MESSAGE, role="status"),
    ])


def open_event(raw: object) -> tuple[int | None, object]:
    """The detail panel for an event id (selected in the queue, or ``?event=ID`` from a KPI's records):
    the event with its history, or the reason it cannot be shown."""
    if not raw:
        return None, html.P("在队列或地图上选择一个事件 / pick an event", className="zt-hint")
    who = principal()
    try:
        with request_connection() as conn:
            event = ev.get_event(conn, int(raw))
    except (ZhengtuError, ValueError) as exc:
        return None, html.P(getattr(exc, "message", "事件编号无效 / bad event id"), className="zt-desk-msg-err")
    return event["id"], detail_view(event, who.may(WRITERS), who.role)


def layout(lang: str | None = None, event: str | None = None, **_query: str) -> html.Div:
    """Filters, queue and forms on the left; the map and the selected event on the right."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    who = principal()
    if not who.may(READERS):
        return html.Div(t("forbidden", lang), className="zt-page")
    can_write = who.may(WRITERS)
    districts, top_cats, cat_options, departments, bounds = _options()
    rows = load_queue(None, None, None, False)
    config = {"tiles": "/tiles/admin_areas/{z}/{x}/{y}.mvt", "bounds": bounds, "canWrite": can_write,
              "statusColors": STATUS_COLORS, "sensorColors": {"normal": "#2ecc71", "alarm": "#ff3b30",
                                                              "offline": "#8a97a6"}}
    filters = html.Div(className="zt-desk-card", children=[
        html.Div(className="zt-desk-filters", children=[
            html.Label(["环节", dcc.Dropdown(id=IDS.STATUS, multi=True, placeholder="在办（全部）",
                                           options=[{"label": s, "value": s} for s in ev.STATUSES])]),
            html.Label(["区县", dcc.Dropdown(id=IDS.DISTRICT, options=districts, placeholder="全部")]),
            html.Label(["类别", dcc.Dropdown(id=IDS.CATEGORY, options=top_cats, placeholder="全部")]),
            dcc.Checklist(id=IDS.OVERDUE, options=[{"label": "只看超期", "value": "yes"}], value=[]),
            html.Button("刷新", id=IDS.REFRESH, n_clicks=0, className="zt-desk-pick"),
        ]),
    ])
    alerts_card = html.Div(className="zt-desk-card", children=[
        html.H3("未确认告警", className="zt-desk-h3"),
        html.Div(open_alerts(), id=IDS.ALERTS),
        html.Div(id=IDS.ACK_MESSAGE, role="status"),
    ])
    left = [filters,
            html.Div(queue_table(rows), id=IDS.QUEUE, className="zt-desk-card zt-desk-queue"), alerts_card]
    if can_write:
        left.append(_register_form(cat_options))
    else:
        left.append(html.P("管理人员只读：可查看队列与办理记录 / read-only for managers",
                           className="zt-desk-readonly"))
    selected, detail = open_event(event)
    detail_card = html.Div(className="zt-desk-card", children=[
        html.Div(detail, id=IDS.DETAIL),
        html.Div(className="zt-desk-actions", hidden=not can_write, children=[
            html.Label(["派遣部门", dcc.Dropdown(id=IDS.DEPARTMENT, options=departments, placeholder="按类别默认",
                                             style={"minWidth": "14rem"})]),
            html.Label(["办理意见（返工须填写原因）", dcc.Input(id=IDS.NOTE, type="text", maxLength=2000)]),
        ]),
        html.Div(id=IDS.MESSAGE, role="status"),
    ])
    return html.Div(className="zt-desk", children=[
        dcc.Store(id=IDS.CONFIG, data=config), dcc.Store(id=IDS.GEOJSON, data=_geojson(rows)),
        dcc.Store(id=IDS.SELECTED, data=selected), dcc.Store(id=IDS.ACTED), dcc.Store(id=IDS.REGISTERED),
        dcc.Store(id=IDS.ACKED),
        dcc.Interval(id=IDS.TICK, interval=15000),
        html.Div(left, className="zt-desk-left"),
        html.Div(className="zt-desk-right", children=[
            html.Div(id=IDS.MAP, className="zt-desk-map"), detail_card,
            html.Span(id=IDS.MAP_STATUS, hidden=True),
        ]),
    ])


@callback(Output(IDS.QUEUE, "children"), Output(IDS.GEOJSON, "data"),
          Input(IDS.STATUS, "value"), Input(IDS.DISTRICT, "value"), Input(IDS.CATEGORY, "value"),
          Input(IDS.OVERDUE, "value"), Input(IDS.REFRESH, "n_clicks"), Input(IDS.TICK, "n_intervals"),
          Input(IDS.ACTED, "data"), Input(IDS.REGISTERED, "data"), State(IDS.SELECTED, "data"),
          prevent_initial_call=True)
def refresh_queue(statuses: list[str] | None, district: str | None, category: str | None,
                  overdue: list[str] | None, _refresh: int | None, _tick: int | None, _acted: object,
                  _registered: object, selected: int | None) -> tuple[object, dict]:
    """The queue for the chosen filters (400-style messages for bad filters)."""
    try:
        rows = load_queue(statuses, district, category, bool(overdue))
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-desk-msg-err"), dash.no_update
    return queue_table(rows, selected), _geojson(rows)


def detail_view(event: dict, can_write: bool, role: str) -> html.Div:
    """The selected event: facts, reports, the loop so far, and the steps the caller may take."""
    facts = [("编号", str(event["id"])), ("类别", f"{event['category']} {event.get('category_name') or ''}"),
             ("环节", event["status"]), ("区县", event["district_adcode"]), ("网格", event.get("grid_code") or "—"),
             ("上报", _time(event["reported_at"])), ("期限", _time(event.get("deadline"))),
             ("部门", event.get("department") or "—"), ("返工次数", str(event.get("rework_count", 0))),
             ("上报次数", str(event.get("report_count", 1))), ("描述", event["description"])]
    history = [html.Li(f"{_time(tr['at'])} {tr['from_status'] or '—'} → {tr['to_status']} · {tr['username']}"
                       + (f" · {tr['department']}" if tr.get("department") else "")
                       + (f" · {tr['note']}" if tr.get("note") else ""))
               for tr in event.get("transitions", [])]
    buttons = []
    if can_write:
        for to in ev.allowed_next(event["status"], role):
            label = REWORK_LABEL if (event["status"], to) == ev.REWORK else ACTION_LABELS.get(to, to)
            buttons.append(html.Button(label, id=action_id(to), n_clicks=0,
                                       className="zt-desk-btn zt-desk-danger" if (event["status"], to) == ev.REWORK
                                       else "zt-desk-btn"))
    return html.Div([
        html.H3(f"事件 {event['id']}" + ("（超期）" if event.get("overdue") else ""), id="zt-desk-event-title"),
        html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="zt-popup",
                style={"display": "grid", "gridTemplateColumns": "auto 1fr", "gap": ".1rem .6rem", "margin": 0}),
        html.Div(buttons, className="zt-desk-actions", id="zt-desk-buttons"),
        html.Ul(history, className="zt-desk-history"),
    ], **{"data-status": event["status"], "data-id": str(event["id"])})


@callback(Output(IDS.DETAIL, "children"), Input(IDS.SELECTED, "data"), Input(IDS.ACTED, "data"),
          prevent_initial_call=True)
def show_detail(selected: int | None, _acted: object) -> object:
    """The selected event with its history (404 text if another jurisdiction's)."""
    return open_event(selected)[1]


@callback(Output(IDS.MESSAGE, "children"), Output(IDS.ACTED, "data"),
          Input(action_id(ALL), "n_clicks"), State(IDS.SELECTED, "data"), State(IDS.NOTE, "value"),
          State(IDS.DEPARTMENT, "value"), prevent_initial_call=True)
def act(clicks: list[int | None], selected: int | None, note: str | None, department: str | None
        ) -> tuple[object, object]:
    """Take the clicked step through ``cityops.events.transition`` (rules, roles, 409 for skips)."""
    triggered = dash.ctx.triggered_id
    if not selected or not isinstance(triggered, dict) or not any(clicks or []):
        return dash.no_update, dash.no_update
    who = principal()
    to = str(triggered.get("to"))
    try:
        with request_connection() as conn:
            current = ev.get_event(conn, int(selected), with_history=False)["status"]
            event = ev.transition(conn, int(selected), to, (note or "").strip() or None, who.username, who.role,
                                  department=department or None)
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-desk-msg-err"), dash.no_update
    text = f"事件 {event['id']}：{current} → {event['status']}" + (
        f"（{event['department']}）" if event.get("department") else "")
    return html.P(text, className="zt-desk-msg-ok", id="zt-desk-done"), {"id": event["id"], "status": event["status"],
                                                                       "at": datetime.now().isoformat()}


@callback(Output(IDS.REG_MESSAGE, "children"), Output(IDS.REGISTERED, "data"),
          Input(IDS.REGISTER, "n_clicks"), State(IDS.REG_CATEGORY, "value"), State(IDS.LON, "value"),
          State(IDS.LAT, "value"), State(IDS.DESCRIPTION, "value"), State(IDS.SOURCE, "value"),
          prevent_initial_call=True)
def register(_clicks: int, category: str | None, lon: float | None, lat: float | None,
             description: str | None, source: str | None) -> tuple[object, object]:
    """Register through ``cityops.events.register``: each bad field named, nothing stored for it."""
    who = principal()
    payload = {"category": category, "lon": lon, "lat": lat, "description": description, "source": source}
    try:
        with request_connection() as conn:
            result = ev.register(conn, payload, who.username, who.region, who.role)
    except ZhengtuError as exc:
        fields = getattr(exc, "fields", {}) or {}
        return html.Div([html.P(exc.message, className="zt-desk-msg-err"),
                         html.Ul([html.Li(f"{k}：{v}") for k, v in fields.items()])]), dash.no_update
    merged = "（与已有事件合并）" if result.get("merged") else ""
    text = f"已登记事件 {result['id']}{merged}，区县 {result['district_adcode']}，网格 {result.get('grid_code') or '—'}"
    return html.P(text, className="zt-desk-msg-ok", id="zt-desk-registered-msg"), result["id"]


clientside_callback(ClientsideFunction("ztOps", "initDesk"), Output(IDS.MAP_STATUS, "children"),
                    Input(IDS.CONFIG, "data"), State(IDS.MAP, "id"))
clientside_callback(ClientsideFunction("ztOps", "deskData"), Output(IDS.MAP_STATUS, "title"),
                    Input(IDS.GEOJSON, "data"), Input(IDS.SELECTED, "data"))
clientside_callback(
    """function (clicks, registered) {
        const trig = dash_clientside.callback_context.triggered_id;
        if (trig === "zt-desk-registered") return registered || dash_clientside.no_update;
        if (trig && trig.type === "zt-desk-pick" && (clicks || []).some((n) => n)) return trig.id;
        return dash_clientside.no_update;
    }""",
    Output(IDS.SELECTED, "data"), Input(pick_id(ALL), "n_clicks"), Input(IDS.REGISTERED, "data"),
    prevent_initial_call=True)

@callback(Output(IDS.ALERTS, "children"), Input(IDS.TICK, "n_intervals"), Input(IDS.ACKED, "data"),
          prevent_initial_call=True)
def refresh_alerts(_tick: int | None, _acked: object) -> html.Div:
    """Open alerts of the caller's region, re-read on each tick and after an acknowledgement."""
    return open_alerts()


@callback(Output(IDS.ACK_MESSAGE, "children"), Output(IDS.ACKED, "data"), Input(ack_id(ALL), "n_clicks"),
          prevent_initial_call=True)
def acknowledge(clicks: list[int | None]) -> tuple[object, object]:
    """Acknowledge the clicked alert (who and when are recorded; a second click answers 409's text)."""
    triggered = dash.ctx.triggered_id
    if not isinstance(triggered, dict) or not any(clicks or []):
        return dash.no_update, dash.no_update
    who = principal()
    try:
        with request_connection() as conn:
            alert = sensors.acknowledge(conn, int(triggered["id"]), who.username)
    except (ZhengtuError, ValueError) as exc:
        return html.P(getattr(exc, "message", str(exc)), className="zt-desk-msg-err"), dash.no_update
    return (html.P(f"告警 {alert['id']} 已确认（{alert['sensor_name']}）", className="zt-desk-msg-ok",
                   id="zt-desk-acked-text"), {"id": alert["id"], "at": datetime.now().isoformat()})


declare_callback(f"..{IDS.QUEUE}.children...{IDS.GEOJSON}.data..", *READERS)
declare_callback(f"{IDS.ALERTS}.children", *READERS)
declare_callback(f"..{IDS.ACK_MESSAGE}.children...{IDS.ACKED}.data..", *WRITERS)
declare_callback(f"{IDS.DETAIL}.children", *READERS)
declare_callback(f"..{IDS.MESSAGE}.children...{IDS.ACTED}.data..", *WRITERS)
declare_callback(f"..{IDS.REG_MESSAGE}.children...{IDS.REGISTERED}.data..", *WRITERS)
