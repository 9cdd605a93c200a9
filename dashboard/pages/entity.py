"""监管对象 — one entity's record: registration, legal representative (masked per role), tasks, cases.

A page for desktop users; the field dossier for phones builds on the same ``entity_dossier``.
"""

from __future__ import annotations

import dash
from dash import html
from flask import request

from accounts.roles import STAFF_ROLES
from dashboard.i18n import LANG_COOKIE, request_lang, t
from enforcement.records import entity_dossier, parse_id
from geo.errors import ZhengtuError
from layers.web import principal, request_connection

dash.register_page(__name__, path_template="/entity/<entity_id>", name="监管对象",
                   title="监管对象 · 政图", roles=STAFF_ROLES)

FIELDS = [("uscc", "统一社会信用代码"), ("category_name", "类别"), ("risk_class", "风险等级"),
          ("licence_no", "许可证号"), ("licence_valid_until", "许可证有效期至"),
          ("legal_rep_name", "法定代表人"), ("legal_rep_id", "身份证号"),
          ("contact_phone", "联系电话"), ("address", "地址"), ("district_name", "所属区县"),
          ("registered_on", "成立日期")]


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> html.Table | html.P:
    if not rows:
        return html.P("暂无记录 / none", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(label) for _, label in columns]))
    body = html.Tbody([html.Tr([html.Td(str(r.get(key, ""))) for key, _ in columns]) for r in rows])
    return html.Table([head, body], className="zt-table")


def layout(entity_id: str | None = None, lang: str | None = None, **_query: str) -> html.Div:
    """The entity record, or a message if it is not in the caller's jurisdiction."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    who = principal()
    if not who.may(STAFF_ROLES):
        return html.Div(t("login.required", lang), className="zt-page")
    try:
        with request_connection() as conn:
            entity = entity_dossier(conn, who, parse_id(entity_id, "entity_id"),
                                    ip=request.remote_addr)
    except ZhengtuError as exc:
        return html.Div(html.P(exc.message, className="zt-login-error"), className="zt-page")
    facts = []
    for key, label in FIELDS:
        facts += [html.Dt(label), html.Dd("" if entity.get(key) is None else str(entity[key]))]
    return html.Div(className="zt-page", children=[
        html.H2(entity["name"], id="zt-entity-name"),
        html.Div(html.Dl(facts, className="zt-kv"), className="zt-card"),
        html.H3("检查任务"),
        _table(entity["tasks"], [("id", "编号"), ("kind", "类型"), ("status", "状态"),
                                 ("due_date", "期限")]),
        html.H3("执法案件"),
        _table(entity["cases"], [("case_no", "案号"), ("title", "案由"), ("stage", "阶段"),
                                 ("opened_on", "立案日期")]),
    ])
