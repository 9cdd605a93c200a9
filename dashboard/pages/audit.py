"""审计日志 — administrators search who did what, when and from where."""

from __future__ import annotations

import json
from datetime import date

import dash
from dash import Input, Output, State, callback, dcc, html
from flask import request

from accounts.audit import ACTIONS, AuditQuery, search
from accounts.roles import ADMIN
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from layers.web import principal, request_connection

dash.register_page(__name__, path="/admin/audit", name="审计日志", title="审计日志 · 政图",
                   roles=(ADMIN,), nav_key="nav.audit", order=90)

TABLE_ID = "zt-audit-table"
COLUMNS = [("at", "时间"), ("username", "用户"), ("role", "角色"), ("region", "辖区"),
           ("action", "操作"), ("object_type", "对象类型"), ("object_id", "对象编号"),
           ("detail", "详情"), ("ip", "来源地址")]


def layout(lang: str | None = None, **_query: str) -> html.Div:
    """Filters and the result table (filled by the search callback)."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    if not principal().may((ADMIN,)):
        return html.Div(t("forbidden", lang), className="zt-page")
    return html.Div(className="zt-page", children=[
        html.H2(t("nav.audit", lang)),
        html.Div(className="zt-filters", children=[
            html.Label(["用户", dcc.Input(id="zt-audit-user", type="text", debounce=True)]),
            html.Label(["操作", dcc.Dropdown(id="zt-audit-action", options=list(ACTIONS),
                                            style={"minWidth": "12rem"})]),
            html.Label(["对象类型", dcc.Input(id="zt-audit-object", type="text", debounce=True)]),
            html.Label(["日期", dcc.DatePickerRange(
                id="zt-audit-dates", display_format="YYYY-MM-DD",
                start_date_placeholder_text="开始日期", end_date_placeholder_text="结束日期")]),
            html.Button("查询", id="zt-audit-search", className="zt-button", style={"width": "6rem"}),
        ]),
        html.Div(id=TABLE_ID, className="zt-table-wrap"),
    ])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def results_table(rows: list[dict]) -> html.Table | html.P:
    """Audit rows as a plain table (text only: values are never rendered as HTML)."""
    if not rows:
        return html.P("没有符合条件的记录 / no matching records", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(label) for _, label in COLUMNS]))
    body = html.Tbody([html.Tr([html.Td(row[key]) for key, _ in COLUMNS]) for row in rows])
    return html.Table([head, body], className="zt-table")


@callback(Output(TABLE_ID, "children"), Input("zt-audit-search", "n_clicks"),
          State("zt-audit-user", "value"), State("zt-audit-action", "value"),
          State("zt-audit-object", "value"), State("zt-audit-dates", "start_date"),
          State("zt-audit-dates", "end_date"))
def run_search(_clicks: int | None, user: str | None, action: str | None, object_type: str | None,
               since: str | None, until: str | None) -> html.Table | html.P:
    """Search the audit log (row-level security limits it to admins of the region)."""
    query = AuditQuery(username=user or None, action=action or None,
                       object_type=object_type or None, since=_date(since), until=_date(until))
    with request_connection() as conn:
        rows = search(conn, query)
    for row in rows:
        row["at"] = row["at"].strftime("%Y-%m-%d %H:%M:%S")
        row["detail"] = json.dumps(row["detail"], ensure_ascii=False)[:300]
    return results_table([{k: ("" if v is None else str(v)) for k, v in r.items()} for r in rows])


declare_callback(f"{TABLE_ID}.children", ADMIN)
