"""检查任务 — supervisors create ad-hoc tasks (complaints, campaigns) and see every task in their region.

The same rules as ``POST /api/tasks`` apply (``enforcement.field.create_task``): named inspectors of the
entity's district, a due date from today, an entity in the supervisor's jurisdiction.
"""

from __future__ import annotations

from datetime import date

import dash
from dash import Input, Output, State, callback, dcc, html
from flask import request

from accounts.roles import ADMIN, MANAGER
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from enforcement.field import ADHOC_KINDS, create_task, inspectors_for, list_tasks
from geo.errors import ZhengtuError
from layers.search import search_entities
from layers.web import principal, request_connection

SUPERVISORS = (MANAGER, ADMIN)
dash.register_page(__name__, path="/tasks", name="检查任务", title="检查任务 · 政图",
                   roles=SUPERVISORS, nav_key="nav.tasks", order=10)

KIND_LABELS = {"complaint": "投诉举报", "campaign": "专项检查", "routine": "日常检查", "random": "双随机"}
STATUS_LABELS = {"open": "待检查", "in_progress": "检查中", "done": "已完成"}


class IDS:
    """Component ids of the tasks page."""

    SEARCH = "zt-task-entity-search"
    ENTITY = "zt-task-entity"
    ASSIGNEES = "zt-task-assignees"
    DUE = "zt-task-due"
    KIND = "zt-task-kind"
    NOTE = "zt-task-note"
    CREATE = "zt-task-create"
    MESSAGE = "zt-task-message"
    TABLE = "zt-task-table"


def task_table(rows: list[dict]) -> html.Table | html.P:
    """Tasks as a plain table (text only)."""
    if not rows:
        return html.P("暂无任务 / no tasks", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(h) for h in ("编号", "监管对象", "类型", "状态", "期限", "执法人员")]))
    body = html.Tbody([html.Tr([html.Td(str(r["id"])), html.Td(r["entity_name"]),
                                html.Td(KIND_LABELS.get(r["kind"], r["kind"])),
                                html.Td(STATUS_LABELS.get(r["status"], r["status"])),
                                html.Td(r["due_date"]), html.Td("、".join(r["assignees"] or r["officers"]))])
                       for r in rows[:200]])
    return html.Table([head, body], className="zt-table")


def layout(lang: str | None = None, **_query: str) -> html.Div:
    """The creation form and the region's tasks."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    who = principal()
    if not who.may(SUPERVISORS):
        return html.Div(t("forbidden", lang), className="zt-page")
    with request_connection() as conn:
        rows = list_tasks(conn, who)
    return html.Div(className="zt-page", children=[
        html.H2("新建检查任务"),
        html.Div(className="zt-filters", children=[
            html.Label(["监管对象（名称 / 统一社会信用代码 / 地址）",
                        dcc.Input(id=IDS.SEARCH, type="search", debounce=True, style={"minWidth": "18rem"})]),
            html.Label(["选择对象", dcc.Dropdown(id=IDS.ENTITY, style={"minWidth": "22rem"})]),
            html.Label(["执法人员", dcc.Dropdown(id=IDS.ASSIGNEES, multi=True, style={"minWidth": "16rem"})]),
            html.Label(["期限", dcc.DatePickerSingle(id=IDS.DUE, date=date.today().isoformat(),
                                                   min_date_allowed=date.today().isoformat(),
                                                   display_format="YYYY-MM-DD")]),
            html.Label(["类型", dcc.Dropdown(id=IDS.KIND, value="complaint", clearable=False,
                                           options=[{"label": KIND_LABELS[k], "value": k} for k in ADHOC_KINDS],
                                           style={"minWidth": "9rem"})]),
            html.Label(["说明", dcc.Input(id=IDS.NOTE, type="text", maxLength=200, style={"minWidth": "12rem"})]),
            html.Button("创建任务", id=IDS.CREATE, className="zt-button", style={"width": "8rem"}),
        ]),
        html.Div(id=IDS.MESSAGE, role="status"),
        html.H2("辖区任务"),
        html.Div(task_table(rows), id=IDS.TABLE, className="zt-table-wrap"),
    ])


@callback(Output(IDS.ENTITY, "options"), Input(IDS.SEARCH, "value"), prevent_initial_call=True)
def find_entities(query: str | None) -> list[dict]:
    """Entities in the supervisor's region matching the search."""
    try:
        with request_connection() as conn:
            hits = search_entities(conn, query or "")
    except ZhengtuError:
        return []
    return [{"label": f"{h['name']}（{h['uscc']}）", "value": h["id"]} for h in hits]


@callback(Output(IDS.ASSIGNEES, "options"), Input(IDS.ENTITY, "value"), prevent_initial_call=True)
def entity_inspectors(entity_id: int | None) -> list[dict]:
    """Only inspectors whose region covers the entity's district can be assigned."""
    if not entity_id:
        return []
    with request_connection() as conn:
        people = inspectors_for(conn, int(entity_id))
    return [{"label": f"{p['display_name']}（{p['username']}，{p['region']}）", "value": p["username"]}
            for p in people]


@callback(Output(IDS.MESSAGE, "children"), Output(IDS.TABLE, "children"), Input(IDS.CREATE, "n_clicks"),
          State(IDS.ENTITY, "value"), State(IDS.ASSIGNEES, "value"), State(IDS.DUE, "date"),
          State(IDS.KIND, "value"), State(IDS.NOTE, "value"), prevent_initial_call=True)
def create(_clicks: int, entity_id: int | None, assignees: list[str] | None, due: str | None,
           kind: str | None, note: str | None) -> tuple[html.P, object]:
    """Create the task through the same rules as the API, then show the region's tasks again."""
    body = {"entity_id": entity_id, "assignees": assignees or [], "due": due, "kind": kind,
            "note": note or None}
    try:
        with request_connection() as conn:
            task_id = create_task(conn, principal(), body)
            rows = list_tasks(conn, principal())
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-login-error"), dash.no_update
    return html.P(f"已创建任务 {task_id} / task {task_id} created", id="zt-task-created"), task_table(rows)


declare_callback(f"{IDS.ENTITY}.options", *SUPERVISORS)
declare_callback(f"{IDS.ASSIGNEES}.options", *SUPERVISORS)
declare_callback(f"..{IDS.MESSAGE}.children...{IDS.TABLE}.children..", *SUPERVISORS)
