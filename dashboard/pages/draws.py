"""双随机抽查 — supervisors plan and run verifiable random draws; legal reviewers read and verify them.

Same rules as ``zhengtu draw``: a plan publishes the SHA-256 of its secret seed; the draw reveals the
seed, stores the register snapshot and rows, and creates the random inspection tasks
(``enforcement.draws``). Everything runs under the caller's jurisdiction (row-level security).
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, ctx, dcc, html
from flask import request

from accounts.roles import ADMIN, LEGAL_REVIEWER, MANAGER
from dashboard.auth import declare_callback
from dashboard.i18n import LANG_COOKIE, request_lang, t
from enforcement import draws
from geo.errors import BadRequest, ZhengtuError
from layers.web import principal, request_connection

SUPERVISORS = (MANAGER, ADMIN)
VIEWERS = (MANAGER, ADMIN, LEGAL_REVIEWER)
dash.register_page(__name__, path="/draws", name="双随机抽查", title="双随机抽查 · 政图",
                   roles=VIEWERS, nav_key="nav.draws", order=12)

STATUS_LABELS = {"draft": "草稿", "published": "已公布", "drawn": "已抽取"}
TASK_LABELS = {"open": "待检查", "in_progress": "检查中", "done": "已完成"}


class IDS:
    """Component ids of the draws page."""

    NAME = "zt-draw-name"
    REGION = "zt-draw-region"
    DEPARTMENT = "zt-draw-department"
    CATEGORIES = "zt-draw-categories"
    RATIO = "zt-draw-ratio-"  # + A..D
    PERIOD = "zt-draw-period"
    DRAFT = "zt-draw-draft"
    CREATE = "zt-draw-create"
    PLAN = "zt-draw-plan"
    PUBLISH = "zt-draw-publish"
    RUN = "zt-draw-run"
    JOINT_PLANS = "zt-draw-joint-plans"
    JOINT = "zt-draw-joint"
    MESSAGE = "zt-draw-message"
    PLANS = "zt-draw-plans"
    RESULT_PLAN = "zt-draw-result-plan"
    RESULTS = "zt-draw-results"
    VERIFY = "zt-draw-verify"
    VERIFY_MESSAGE = "zt-draw-verify-message"
    CONFLICT_OFFICER = "zt-draw-conflict-officer"
    CONFLICT_USCC = "zt-draw-conflict-uscc"
    CONFLICT_REASON = "zt-draw-conflict-reason"
    CONFLICT_SAVE = "zt-draw-conflict-save"
    CONFLICT_MESSAGE = "zt-draw-conflict-message"


ACT_OUTPUT = (f"..{IDS.MESSAGE}.children...{IDS.PLANS}.children...{IDS.PLAN}.options..."
              f"{IDS.JOINT_PLANS}.options...{IDS.RESULT_PLAN}.options..")
HASH_STYLE = {"fontFamily": "monospace", "wordBreak": "break-all", "fontSize": ".75rem", "maxWidth": "34rem"}
DEFAULT_RATIOS = {"A": 0.01, "B": 0.03, "C": 0.05, "D": 0.1}


def plans_table(plans: list[dict]) -> html.Table | html.P:
    """The region's plans, newest first, with seed hash and (once drawn) the seed."""
    if not plans:
        return html.P("暂无抽查计划 / no plans yet", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(h) for h in ("编号", "名称", "区域", "部门", "比例", "状态",
                                                      "种子哈希 / 种子", "抽中")]))
    rows = []
    for p in plans:
        ratios = "；".join(f"{k} {float(v) * 100:g}%" for k, v in sorted((p["ratios"] or {}).items()))
        if p["kind"] == "joint":
            ratios = "联合：计划 " + "、".join(map(str, p["members"]))
        seed = [html.Div(f"哈希 {p['seed_hash']}", style=HASH_STYLE, title="SHA-256(seed)")]
        if p["seed"]:
            seed.append(html.Div(f"种子 {p['seed']}", style=HASH_STYLE))
        status = STATUS_LABELS.get(p["status"], p["status"])
        if p["joint_id"]:
            status += f"（并入联合 {p['joint_id']}）"
        rows.append(html.Tr([html.Td(str(p["id"])), html.Td(p["name"]), html.Td(p["region_adcode"]),
                             html.Td(p["department"] or "不限"), html.Td(ratios), html.Td(status),
                             html.Td(seed), html.Td("" if p["drawn_count"] is None else str(p["drawn_count"]))],
                            id=f"zt-draw-plan-row-{p['id']}"))
    return html.Table([head, html.Tbody(rows)], className="zt-table")


def _options(plans: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    runnable = [{"label": f"{p['id']} · {p['name']}（{STATUS_LABELS[p['status']]}）", "value": p["id"]}
                for p in plans if p["status"] in ("draft", "published") and not p["joint_id"]]
    joinable = [{"label": f"{p['id']} · {p['name']}（{p['department'] or '不限部门'}）", "value": p["id"]}
                for p in plans if p["status"] == "published" and p["kind"] == "plan" and not p["joint_id"]]
    drawn = [{"label": f"{p['id']} · {p['name']}", "value": p["id"]}
             for p in plans if p["status"] == "drawn" and not p["joint_id"]]
    return runnable, joinable, drawn


def results_table(rows: list[dict]) -> html.Table | html.P:
    """A drawn plan's rows: entity, department, officers, task."""
    if not rows:
        return html.P("无抽取记录 / no rows", className="zt-hint")
    head = html.Thead(html.Tr([html.Th(h) for h in ("序号", "监管对象", "统一社会信用代码", "风险", "区县", "部门",
                                                      "执法人员", "任务", "状态")]))
    body = html.Tbody([html.Tr([html.Td(str(r["seq"])), html.Td(r["entity_name"]), html.Td(r["uscc"]),
                                html.Td(r["risk_class"]), html.Td(r["district_name"]),
                                html.Td(r["department"] or "不限"), html.Td(r["officer_names"] or ""),
                                html.Td(str(r["task_id"] or "")),
                                html.Td(TASK_LABELS.get(r["status"] or "", r["status"] or ""))])
                       for r in rows])
    return html.Table([head, body], className="zt-table", id="zt-draw-result-table")


def _form(who_region: str, departments: list[str], categories: list[tuple[str, str]], runnable: list[dict],
          joinable: list[dict]) -> html.Div:
    return html.Div([
        html.H2("新建抽查计划"),
        html.Div(className="zt-filters", children=[
            html.Label(["计划名称", dcc.Input(id=IDS.NAME, type="text", maxLength=200,
                                           style={"minWidth": "18rem"})]),
            html.Label(["区域代码", dcc.Input(id=IDS.REGION, type="text", value=who_region, maxLength=6,
                                           style={"width": "7rem"})]),
            html.Label(["部门", dcc.Dropdown(id=IDS.DEPARTMENT, options=departments, placeholder="不限",
                                           style={"minWidth": "12rem"})]),
            html.Label(["类别", dcc.Dropdown(id=IDS.CATEGORIES, multi=True, placeholder="全部",
                                           options=[{"label": n, "value": c} for c, n in categories],
                                           style={"minWidth": "14rem"})]),
            *[html.Label([f"{k} 类比例", dcc.Input(id=IDS.RATIO + k, type="number", min=0, max=1, step=0.001,
                                                 value=v, style={"width": "6rem"})])
              for k, v in DEFAULT_RATIOS.items()],
            html.Label(["期间", dcc.DatePickerRange(id=IDS.PERIOD, display_format="YYYY-MM-DD")]),
            dcc.Checklist(id=IDS.DRAFT, options=[{"label": "仅存草稿（暂不公布）", "value": "draft"}], value=[],
                          labelStyle={"display": "flex", "alignItems": "center", "gap": ".3rem"},
                          inputStyle={"width": "1rem", "height": "1rem", "minWidth": "0"}),
            html.Button("创建计划", id=IDS.CREATE, className="zt-button", style={"width": "8rem"}),
        ]),
        html.H2("发布与抽取"),
        html.Div(className="zt-filters", children=[
            html.Label(["计划", dcc.Dropdown(id=IDS.PLAN, options=runnable, style={"minWidth": "22rem"})]),
            html.Button("发布草稿", id=IDS.PUBLISH, className="zt-button", style={"width": "7rem"}),
            html.Button("执行抽取", id=IDS.RUN, className="zt-button", style={"width": "7rem"}),
            html.Label(["部门联合抽查：选择两个以上已公布计划",
                        dcc.Dropdown(id=IDS.JOINT_PLANS, options=joinable, multi=True,
                                     style={"minWidth": "22rem"})]),
            html.Button("创建联合计划", id=IDS.JOINT, className="zt-button", style={"width": "9rem"}),
        ]),
    ])


OFFICERS_SQL = "SELECT id, name, department, badge_no FROM officers ORDER BY department, name, id LIMIT 5000"


def _conflict_form(officers: list[tuple]) -> html.Div:
    """利益冲突申报: an officer declares a conflict with an entity (by USCC); draws never pick them for it."""
    options = [{"label": f"{name}（{dept} · {badge}）", "value": oid} for oid, name, dept, badge in officers]
    return html.Div([
        html.H2("利益冲突申报"),
        html.Div(className="zt-filters", children=[
            html.Label(["执法人员", dcc.Dropdown(id=IDS.CONFLICT_OFFICER, options=options,
                                             style={"minWidth": "20rem"})]),
            html.Label(["统一社会信用代码", dcc.Input(id=IDS.CONFLICT_USCC, type="text", maxLength=18,
                                                style={"width": "13rem"})]),
            html.Label(["原因", dcc.Input(id=IDS.CONFLICT_REASON, type="text", maxLength=500,
                                        style={"minWidth": "16rem"})]),
            html.Button("登记回避", id=IDS.CONFLICT_SAVE, className="zt-button", style={"width": "7rem"}),
        ]),
        html.Div(id=IDS.CONFLICT_MESSAGE, role="status"),
    ])


def layout(lang: str | None = None, **_query: str) -> html.Div:
    """Plans of the caller's region; the forms for supervisors; results and verification for all."""
    lang = request_lang(lang, request.cookies.get(LANG_COOKIE))
    who = principal()
    if not who.may(VIEWERS):
        return html.Div(t("forbidden", lang), className="zt-page")
    with request_connection() as conn:
        plans = draws.list_plans(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT department FROM officers ORDER BY 1")
            departments = [r[0] for r in cur.fetchall()]
            cur.execute("SELECT code, name_zh FROM entity_categories ORDER BY code")
            categories = cur.fetchall()
            cur.execute(OFFICERS_SQL)
            officers = cur.fetchall()
    runnable, joinable, drawn = _options(plans)
    writer = who.may(SUPERVISORS)
    parts = [_form(who.region, departments, categories, runnable, joinable) if writer else
             html.P("法制审核人员可查看计划、抽取名单并复核抽取结果 / read-only", className="zt-hint")]
    if writer:
        parts.append(_conflict_form(officers))
    else:  # keep the ids the callbacks expect, hidden
        parts.append(html.Div([dcc.Dropdown(id=IDS.PLAN), dcc.Dropdown(id=IDS.JOINT_PLANS)], hidden=True))
    return html.Div(className="zt-page", children=[
        *parts,
        html.Div(id=IDS.MESSAGE, role="status"),
        html.H2("抽查计划"),
        html.Div(plans_table(plans), id=IDS.PLANS, className="zt-table-wrap"),
        html.H2("抽取名单"),
        html.Div(className="zt-filters", children=[
            html.Label(["已抽取的计划", dcc.Dropdown(id=IDS.RESULT_PLAN, options=drawn,
                                                value=drawn[0]["value"] if drawn else None,
                                                style={"minWidth": "22rem"})]),
            html.Button("复算核验", id=IDS.VERIFY, className="zt-button", style={"width": "7rem"}),
        ]),
        html.Div(id=IDS.VERIFY_MESSAGE, role="status"),
        html.Div(id=IDS.RESULTS, className="zt-table-wrap"),
    ])


def _ratios(values: tuple) -> dict:
    return {k: (0 if v in (None, "") else v) for k, v in zip(DEFAULT_RATIOS, values, strict=True)}


@callback(Output(IDS.MESSAGE, "children"), Output(IDS.PLANS, "children"), Output(IDS.PLAN, "options"),
          Output(IDS.JOINT_PLANS, "options"), Output(IDS.RESULT_PLAN, "options"),
          Input(IDS.CREATE, "n_clicks"), Input(IDS.PUBLISH, "n_clicks"), Input(IDS.RUN, "n_clicks"),
          Input(IDS.JOINT, "n_clicks"),
          State(IDS.NAME, "value"), State(IDS.REGION, "value"), State(IDS.DEPARTMENT, "value"),
          State(IDS.CATEGORIES, "value"), *[State(IDS.RATIO + k, "value") for k in DEFAULT_RATIOS],
          State(IDS.PERIOD, "start_date"), State(IDS.PERIOD, "end_date"), State(IDS.DRAFT, "value"),
          State(IDS.PLAN, "value"), State(IDS.JOINT_PLANS, "value"), prevent_initial_call=True)
def act(_create: int, _publish: int, _run: int, _joint: int, name: str | None, region: str | None,
        department: str | None, categories: list[str] | None, ra: object, rb: object, rc: object, rd: object,
        start: str | None, end: str | None, draft: list[str] | None, plan_id: int | None,
        joint_ids: list[int] | None) -> tuple:
    """Create, publish, draw or join — then show the region's plans again."""
    who = principal()
    trigger = ctx.triggered_id
    try:
        with request_connection() as conn:
            if trigger == IDS.CREATE:
                made = draws.create_plan(conn, who.username, name=name or "", region=region or "",
                                         ratios=_ratios((ra, rb, rc, rd)), department=department,
                                         categories=categories, period_from=start, period_to=end,
                                         publish="draft" not in (draft or []))
                text = f"已创建计划 {made['id']}，种子哈希 {made['seed_hash']}"
            elif trigger in (IDS.PUBLISH, IDS.RUN) and not plan_id:
                raise BadRequest("请先选择计划 / choose a plan")
            elif trigger == IDS.PUBLISH:
                made = draws.publish_plan(conn, int(plan_id))
                text = f"计划 {plan_id} 已公布，种子哈希 {made['seed_hash']}"
            elif trigger == IDS.RUN:
                outcome = draws.run_draw(conn, int(plan_id), who.username)
                text = (f"计划 {plan_id} 已抽取：{outcome.entities} 户中抽出 {outcome.rows} 项任务；"
                        f"种子 {outcome.seed_hex}")
            else:
                made = draws.create_joint(conn, who.username, list(joint_ids or []))
                text = f"已创建联合计划 {made['id']}，种子哈希 {made['seed_hash']}"
            plans = draws.list_plans(conn)
    except ZhengtuError as exc:
        return (html.P(exc.message, className="zt-login-error"), dash.no_update, dash.no_update,
                dash.no_update, dash.no_update)
    return (html.P(text, id="zt-draw-done"), plans_table(plans), *_options(plans))


@callback(Output(IDS.RESULTS, "children"), Input(IDS.RESULT_PLAN, "value"))
def show_results(plan_id: int | None) -> object:
    """The rows of the chosen drawn plan."""
    if not plan_id:
        return html.P("选择已抽取的计划查看名单", className="zt-hint")
    try:
        with request_connection() as conn:
            return results_table(draws.plan_results(conn, int(plan_id)))
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-login-error")


@callback(Output(IDS.VERIFY_MESSAGE, "children"), Input(IDS.VERIFY, "n_clicks"), State(IDS.RESULT_PLAN, "value"),
          prevent_initial_call=True)
def verify(_clicks: int, plan_id: int | None) -> html.Div:
    """Recompute the chosen draw from its snapshot and revealed seed, and compare row by row."""
    if not plan_id:
        return html.P("请先选择计划 / choose a plan", className="zt-login-error")
    try:
        with request_connection() as conn:
            problems = draws.verify_draw(conn, int(plan_id))
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-login-error")
    if not problems:
        return html.P(f"计划 {plan_id}：种子与公布哈希一致，登记册快照完整，重算结果逐行一致 / verified",
                      id="zt-draw-verified")
    return html.Div([html.P(p, className="zt-login-error") for p in problems], id="zt-draw-mismatch")


@callback(Output(IDS.CONFLICT_MESSAGE, "children"), Input(IDS.CONFLICT_SAVE, "n_clicks"),
          State(IDS.CONFLICT_OFFICER, "value"), State(IDS.CONFLICT_USCC, "value"), State(IDS.CONFLICT_REASON, "value"),
          prevent_initial_call=True)
def declare_conflict(_clicks: int, officer: int | None, uscc: str | None, reason: str | None) -> html.P:
    """Record the declared conflict (the USCC's check character is verified by the domain); audited."""
    code = (uscc or "").strip().upper()
    try:
        if officer is None:
            raise BadRequest("请选择执法人员 / pick an officer")
        with request_connection() as conn:
            conflict_id = draws.declare_conflict(conn, int(officer), code, reason or "")
    except ZhengtuError as exc:
        return html.P(exc.message, className="zt-login-error")
    return html.P(f"已登记回避（第 {conflict_id} 号）：此后的抽取不会为 {code} 抽中该执法人员。",
                  className="zt-hint", id="zt-draw-conflict-done")


declare_callback(ACT_OUTPUT, *SUPERVISORS)
declare_callback(f"{IDS.CONFLICT_MESSAGE}.children", *SUPERVISORS)
declare_callback(f"{IDS.RESULTS}.children", *VIEWERS)
declare_callback(f"{IDS.VERIFY_MESSAGE}.children", *VIEWERS)
