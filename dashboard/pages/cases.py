"""执法案件 — the region's cases for reviewers and managers (an inspector sees their own), with deadlines.

The same list as ``GET /api/cases`` (``enforcement.cases.list_cases``): stage, the nearer of the stage
limit and the 90-day statutory clock, days left, warning and overdue flags.
"""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html
from flask import request

from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from enforcement.case_rules import READ_ROLES, STAGES
from enforcement.cases import list_cases
from geo.errors import ZhengtuError
from layers.web import principal, request_connection

dash.register_page(__name__, path="/cases", name="执法案件", title="执法案件 · 政图", roles=READ_ROLES,
                   nav_key="nav.cases", order=11)


KIND_WORDS = {"statutory": "法定", "stage": "环节"}


class IDS:
    """Component ids of the cases list."""

    STAGE = "zt-cases-stage"
    TABLE = "zt-cases-table"


def status_badge(row: dict) -> html.Span:
    """超期 / 临期 / 暂停 / 正常 as a coloured word (text, not colour alone)."""
    if row.get("paused"):
        return html.Span("期限暂停", className="zt-badge zt-badge-paused")
    if row.get("overdue"):
        return html.Span("已超期", className="zt-badge zt-badge-overdue")
    if row.get("warning"):
        return html.Span("临近期限", className="zt-badge zt-badge-warning")
    if row.get("deadline") is None:
        return html.Span("—", className="zt-badge")
    return html.Span("正常", className="zt-badge zt-badge-ok")


def cases_table(rows: list[dict]) -> html.Table | html.P:
    """Cases as a table; the case number links to the case page."""
    if not rows:
        return html.P("暂无案件 / no cases", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(h) for h in ("案号", "当事人", "案由", "阶段", "期限", "剩余工作日",
                                                    "状态", "退回")]))
    body = html.Tbody([html.Tr([
        html.Td(dcc.Link(r["case_no"], href=f"/case/{r['id']}")), html.Td(r["entity"]), html.Td(r["title"]),
        html.Td(r["stage"]),
        html.Td(f"{r['deadline']}（{KIND_WORDS[r['deadline_kind']]}）" if r["deadline"] else "—"),
        html.Td("" if r["days_left"] is None else str(r["days_left"])), html.Td(status_badge(r)),
        html.Td(str(r["rework_count"] or ""))]) for r in rows])
    return html.Table([head, body], className="zt-table", id="zt-cases-list")


def _rows(stage: str | None) -> list[dict]:
    with request_connection() as conn:
        return list_cases(conn, principal(), stage=stage or None)


def layout(lang: str | None = None, **_query: str) -> html.Div:
    """The stage filter and the list."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    if not principal().may(READ_ROLES):
        return html.Div(t("forbidden", lang), className="zt-page")
    rows = _rows(None)
    overdue = sum(1 for r in rows if r["overdue"])
    warning = sum(1 for r in rows if r["warning"])
    return html.Div(className="zt-page", children=[
        html.H2("执法案件"),
        html.P(f"共 {len(rows)} 件，已超期 {overdue} 件，临近期限 {warning} 件。期限为环节时限（工作日）与"
               "《行政处罚法》第六十条九十日办案期限中较早者。", className="zt-hint"),
        html.Div(className="zt-filters", children=[
            html.Label(["阶段", dcc.Dropdown(id=IDS.STAGE, options=[{"label": s, "value": s} for s in STAGES],
                                           placeholder="全部阶段", style={"minWidth": "10rem"})]),
        ]),
        html.Div(cases_table(rows), id=IDS.TABLE, className="zt-table-wrap"),
    ])


@callback(Output(IDS.TABLE, "children"), Input(IDS.STAGE, "value"), prevent_initial_call=True)
def filter_stage(stage: str | None) -> object:
    """The list for one stage (or all)."""
    try:
        return cases_table(_rows(stage))
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-login-error")


declare_callback(f"{IDS.TABLE}.children", *READ_ROLES)
