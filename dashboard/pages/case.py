"""案件 — one case for desktop reviewers: stages, clock, timeline, site map, evidence with hashes and EXIF
checks, documents, and the actions the caller may take now (legal reviewers and managers; inspectors
read their region's cases here and act from the field API).

Actions go through the same functions as ``POST /api/cases/<id>/…`` (``enforcement.cases``), so the
page refuses exactly what the API refuses, with the same message.
"""

from __future__ import annotations

import base64

import dash
from dash import Input, Output, State, callback, dcc, html
from flask import request

from accounts.roles import LEGAL_REVIEWER, MANAGER
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from dashboard.pages.cases import status_badge
from enforcement import cases
from enforcement.case_rules import PAUSE_KINDS, READ_ROLES, STAGES
from enforcement.documents import FLAG_LABELS, KIND_LABELS, KINDS
from enforcement.records import case_record, parse_id
from enforcement.sitemap import render_site_map
from geo.errors import ZhengtuError
from layers.web import principal, request_connection

dash.register_page(__name__, path_template="/case/<case_id>", name="案件", title="案件 · 政图", roles=READ_ROLES)
ACTORS = (LEGAL_REVIEWER, MANAGER)  # act on this page; inspectors act from the field
ACTION_LABELS = {"transition": "转入", "rework": "退回补正"}


class IDS:
    """Component ids of the case page."""

    CASE = "zt-case-id"
    BODY = "zt-case-body"
    ACTION = "zt-case-action"
    NOTE = "zt-case-note"
    DECISION = "zt-case-decision"
    PENALTY = "zt-case-penalty"
    SUBMIT = "zt-case-submit"
    MESSAGE = "zt-case-message"


def _load(case_id: int) -> tuple[dict, bytes | None]:
    with request_connection() as conn:
        record = case_record(conn, case_id)
        record.update(cases.case_extras(conn, case_id, principal()))
        png = render_site_map(conn, record["entity_id"], width=640, height=260)
    return record, png


def action_options(record: dict) -> list[dict]:
    """What the caller may do now, as dropdown options (value encodes the call)."""
    options = [{"label": f"{m['label']}（→ {m['to']}）", "value": f"to:{m['to']}"} for m in record.get("allowed", [])]
    if record.get("can_pause"):
        options += [{"label": f"暂停计时：{k}", "value": f"pause:{k}"} for k in PAUSE_KINDS]
    if record.get("can_resume"):
        options.append({"label": "恢复计时", "value": "resume"})
    if record.get("can_extend"):
        options.append({"label": "批准延期 30 日", "value": "extend"})
    return options


def _stepper(stage: str) -> html.Ol:
    current = STAGES.index(stage)
    return html.Ol(className="zt-stepper", children=[
        html.Li(s, className="zt-step " + ("zt-step-done" if i < current else "zt-step-now" if i == current else ""),
                **({"id": "zt-case-stage"} if i == current else {}))
        for i, s in enumerate(STAGES)])


def _clock(record: dict) -> html.Div:
    c = record["clock"]
    kind = "法定办案期限" if c["deadline_kind"] == "statutory" else "环节时限"
    facts = [("期限", f"{c['deadline'] or '—'}（{kind}）"),
             ("剩余工作日", "—" if c["days_left"] is None else str(c["days_left"])),
             ("环节时限", f"{c['stage_deadline'] or '—'}（本环节自 {record['stage_since']} 起）"),
             ("法定办案期限", f"{c['statutory_deadline'] or '已作出决定'}（立案 {record['opened_on']} 起 90 日"
                            f"{'，已延长 30 日' if record['extension_days'] else ''}，暂停 {c['paused_days']} 日）"),
             ("退回补正", f"{record['rework_count']} 次")]
    if record.get("decision"):
        facts += [("处罚决定", record["decision"]), ("罚款（元）", record.get("penalty_yuan") or "—")]
    items = []
    for label, value in facts:
        items += [html.Dt(label), html.Dd(value)]
    return html.Div(className="zt-card", children=[html.H3(["办案期限 ", status_badge(c)]),
                                                    html.Dl(items, className="zt-kv")])


def _timeline(events: list[dict]) -> html.Ol:
    words = {"open": "立案", "transition": "转入", "rework": "退回补正", "extension": "批准延期", "pause": "暂停计时",
             "resume": "恢复计时"}
    return html.Ol(className="zt-timeline", id="zt-case-timeline", children=[
        html.Li([html.Span(e["at"], className="zt-time"), " ",
                 html.B(f"{words.get(e['action'], e['action'])}"
                        + (f" {e['from_stage']} → {e['to_stage']}" if e["from_stage"] else f" {e['to_stage'] or ''}")),
                 f" · {e['username']}（{e['role']}）", html.Div(e["note"], className="zt-hint") if e["note"] else None])
        for e in events])


def _evidence(items: list[dict]) -> html.Div:
    if not items:
        return html.P("暂无证据 / no evidence", className="zt-hint")
    rows = [html.Tr([
        html.Td(html.A(str(v["id"]), href=f"/api/evidence/{v['id']}/file", target="_blank")),
        html.Td(KIND_LABELS.get(v["kind"], v["kind"])), html.Td(v["captured_at"] or v["received_at"]),
        html.Td([html.Div(f"SHA-256 {v['sha256']}", className="zt-hash"),
                 html.Div(f"SM3 {v['sm3']}", className="zt-hash")]),
        html.Td("、".join(FLAG_LABELS.get(f, f) for f in v["flags"]) or "EXIF 正常",
                className="zt-flagged" if v["flags"] else "")]) for v in items]
    head = html.Thead(html.Tr([html.Th(h) for h in ("编号", "类型", "拍摄/接收时间", "哈希", "EXIF 检查")]))
    return html.Div(html.Table([head, html.Tbody(rows)], className="zt-table", id="zt-case-evidence"),
                    className="zt-table-wrap")


def _documents(record: dict) -> html.Ul:
    stored = {d["kind"]: d for d in record["documents"]}
    return html.Ul(className="zt-doc-list", children=[
        html.Li([html.A(title, href=f"/api/cases/{record['id']}/documents/{kind}.pdf", target="_blank",
                        id=f"zt-doc-{kind}"),
                 html.Span(f" {stored[kind]['number']} · 第 {stored[kind]['version']} 版 · SHA-256 "
                           f"{stored[kind]['sha256'][:16]}…" if kind in stored else " 未生成（点击生成）",
                           className="zt-hint")])
        for kind, (title, _) in KINDS.items()])


def case_body(record: dict, png: bytes | None) -> list:
    """Everything below the title that changes with an action."""
    picture = (html.Img(src="data:image/png;base64," + base64.b64encode(png).decode(), alt="现场位置示意图",
                        className="zt-case-map") if png else html.P("无位置", className="zt-hint"))
    return [
        _stepper(record["stage"]),
        html.Div(className="zt-case-grid", children=[
            html.Div([_clock(record), html.Div(className="zt-card", children=[html.H3("办案过程"),
                                                                               _timeline(record["timeline"])])]),
            html.Div([html.Div(className="zt-card", children=[html.H3("现场位置"), picture]),
                      html.Div(className="zt-card", children=[html.H3("执法文书"), _documents(record)]),
                      html.Div(className="zt-card", children=[
                          html.H3("证据"), _evidence(record["evidence"]),
                          html.P(f"哈希链 {record['chain']['key']}：{record['chain']['links']} 个环节，最新 "
                                 f"{(record['chain']['head'] or '')[:16]}…", className="zt-hint")])]),
        ]),
    ]


def _actions(record: dict) -> html.Div | None:
    if not principal().may(ACTORS):
        return None
    return html.Div(className="zt-card zt-case-actions", children=[
        html.H3("办理"),
        html.Div(className="zt-filters", children=[
            html.Fieldset([html.Legend("操作"),
                           dcc.RadioItems(id=IDS.ACTION, options=action_options(record), className="zt-case-choices")],
                          className="zt-case-fieldset"),
            html.Label(["意见 / 理由", dcc.Textarea(id=IDS.NOTE, maxLength=2000, style={"minWidth": "18rem"})]),
            html.Label(["处罚决定（作出决定时）", dcc.Input(id=IDS.DECISION, type="text", maxLength=2000)]),
            html.Label(["罚款（元）", dcc.Input(id=IDS.PENALTY, type="number", min=0)]),
            html.Button("提交", id=IDS.SUBMIT, className="zt-button", style={"width": "7rem"}),
        ]),
        html.Div(id=IDS.MESSAGE, role="status"),
    ])


def layout(case_id: str | None = None, lang: str | None = None, **_query: str) -> html.Div:
    """The case, or a message if it is not in the caller's jurisdiction."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    if not principal().may(READ_ROLES):
        return html.Div(t("forbidden", lang), className="zt-page")
    try:
        cid = parse_id(case_id, "case_id")
        record, png = _load(cid)
    except ZhengtuError as exc:
        return html.Div(html.P(exc.message, className="zt-login-error"), className="zt-page")
    return html.Div(className="zt-page zt-case-page", children=[
        dcc.Store(id=IDS.CASE, data=cid),
        html.P(dcc.Link("← 执法案件", href="/cases")),
        html.H2(record["case_no"], id="zt-case-title"),
        html.P([record["title"], " · 当事人 ", dcc.Link(record["entity_name"], href=f"/entity/{record['entity_id']}"),
                f"（{record['uscc']}）· 承办人 {'、'.join(record['officers']) or '未指定'}"], className="zt-hint"),
        _actions(record),
        html.Div(case_body(record, png), id=IDS.BODY),
    ])


@callback(Output(IDS.MESSAGE, "children"), Output(IDS.BODY, "children"), Output(IDS.ACTION, "options"),
          Output(IDS.ACTION, "value"), Input(IDS.SUBMIT, "n_clicks"), State(IDS.CASE, "data"),
          State(IDS.ACTION, "value"), State(IDS.NOTE, "value"), State(IDS.DECISION, "value"),
          State(IDS.PENALTY, "value"), prevent_initial_call=True)
def act(_clicks: int, case_id: int, action: str | None, note: str | None, decision: str | None,
        penalty: float | None) -> tuple:
    """Run the chosen action through ``enforcement.cases`` and redraw the case."""
    if not action:
        return html.P("请选择操作 / choose an action", className="zt-login-error"), dash.no_update, dash.no_update, None
    who, body = principal(), {"note": note or ""}
    try:
        with request_connection() as conn:
            if action.startswith("to:"):
                body.update(to=action[3:], decision=decision or "", penalty_yuan=penalty)
                cases.transition(conn, who, int(case_id), body)
            elif action.startswith("pause:"):
                cases.pause(conn, who, int(case_id), {**body, "kind": action[6:]})
            elif action == "resume":
                cases.resume(conn, who, int(case_id), body)
            elif action == "extend":
                cases.extend(conn, who, int(case_id), body)
            else:
                error = html.P("未知操作 / unknown action", className="zt-login-error")
                return error, dash.no_update, dash.no_update, None
        record, png = _load(int(case_id))
    except ZhengtuError as exc:
        error = html.P(exc.message, className="zt-login-error", id="zt-case-error")
        return error, dash.no_update, dash.no_update, action
    done = html.P(f"已办理：{action.split(':')[-1]} · 当前阶段 {record['stage']}", id="zt-case-done")
    return done, case_body(record, png), action_options(record), None


declare_callback(f"..{IDS.MESSAGE}.children...{IDS.BODY}.children...{IDS.ACTION}.options...{IDS.ACTION}.value..",
                 *ACTORS)
