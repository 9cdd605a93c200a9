"""Enforcement cases: the stage machine, roles, self-approval, rework, clocks, pauses, extension, chain."""

from __future__ import annotations

from contextlib import closing
from datetime import date

import pytest

from accounts.users import add_user, issue_token
from enforcement.case_rules import (
    DEFAULT_LIMITS,
    Actor,
    CaseState,
    Pause,
    RuleError,
    allowed_moves,
    check_transition,
    compute_clock,
)
from enforcement.verify import verify_chains
from geo import workdays
from geo.db import connect
from tests.conftest import PASSWORD, bearer
from tests.helpers import entity_in, one

CAL = workdays.shipped()
INSP = Actor("insp_a", "inspector")
REVIEWER = Actor("rev_a", "legal_reviewer")
MANAGER = Actor("boss_a", "manager")


# ---- the rules, without a database ---------------------------------------------------------------

@pytest.mark.parametrize("stage, to, actor, status, fragment", [
    ("立案", "法制审核", INSP, 409, "不得跳过"),
    ("立案", "结案", MANAGER, 409, "不得跳过"),
    ("决定", "法制审核", REVIEWER, 409, "不得跳过或倒退"),
    ("结案", "执行", MANAGER, 409, "已结案"),
    ("立案", "调查取证", REVIEWER, 403, "只能由 inspector"),
    ("法制审核", "决定", INSP, 403, "只能由 legal_reviewer"),
    ("法制审核", "决定", MANAGER, 403, "只能由 legal_reviewer"),
    ("执行", "结案", REVIEWER, 403, "只能由"),
    ("立案", "立案", INSP, 409, "已处于"),
    ("立案", "审核", INSP, 400, "未知阶段"),
])
def test_illegal_transitions_are_refused_with_a_clear_message(stage, to, actor, status, fragment):
    with pytest.raises(RuleError) as refused:
        check_transition(CaseState(stage, officers=("insp_a",)), to, actor, note="说明理由", decision="罚款")
    assert refused.value.status == status
    assert fragment in refused.value.message and " / " in refused.value.message


def test_nobody_approves_a_case_they_opened_or_handle():
    opened_by_reviewer = CaseState("法制审核", officers=("insp_a",), created_by="rev_a")
    with pytest.raises(RuleError, match="不得审批本人") as refused:
        check_transition(opened_by_reviewer, "决定", REVIEWER)
    assert refused.value.status == 403
    on_the_case = CaseState("决定", officers=("insp_a", "boss_a"))
    with pytest.raises(RuleError, match="不得审批本人"):
        check_transition(on_the_case, "执行", MANAGER, decision="罚款一千元")
    assert allowed_moves(on_the_case, MANAGER) == []
    check_transition(CaseState("法制审核", officers=("insp_a",)), "决定", REVIEWER)  # someone else: fine


def test_only_the_handling_officers_move_their_case():
    with pytest.raises(RuleError, match="承办人") as refused:
        check_transition(CaseState("立案", officers=("insp_a",)), "调查取证", Actor("insp_b", "inspector"))
    assert refused.value.status == 403


def test_send_back_needs_a_reason_and_the_decision_needs_its_text():
    with pytest.raises(RuleError, match="退回理由") as refused:
        check_transition(CaseState("法制审核"), "调查取证", REVIEWER, note=" ")
    assert refused.value.status == 400
    assert check_transition(CaseState("法制审核"), "调查取证", REVIEWER, note="证据不足").action == "rework"
    with pytest.raises(RuleError, match="处罚决定"):
        check_transition(CaseState("决定"), "执行", MANAGER)


# ---- clocks against the shipped calendar ------------------------------------------------------------

def clock(stage, opened, since, today, pauses=(), extension=0):
    return compute_clock(CAL, stage=stage, opened_on=opened, stage_since=since, extension_days=extension,
                         pauses=list(pauses), today=today)


def test_stage_limit_in_working_days_across_a_weekend():
    # 法制审核 (5 working days) from Friday 2026-11-27: Mon 30, Tue 1, Wed 2, Thu 3, Fri 4 December.
    c = clock("法制审核", date(2026, 11, 20), date(2026, 11, 27), date(2026, 11, 30))
    assert c.stage_deadline == date(2026, 12, 4) and c.deadline_kind == "stage"
    assert (c.days_left, c.warning, c.overdue) == (4, False, False)
    c = clock("法制审核", date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 2))
    assert (c.days_left, c.warning, c.overdue) == (2, True, False)
    c = clock("法制审核", date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 7))  # the Monday after
    assert c.overdue and not c.warning and c.days_left == -1


def test_stage_limit_across_national_day_and_its_swapped_saturday():
    # From Wed 2026-09-30: Oct 1–7 off; Thu 8, Fri 9, Sat 10 (调休), Mon 12, Tue 13.
    c = clock("法制审核", date(2026, 9, 1), date(2026, 9, 30), date(2026, 9, 30))
    assert c.stage_deadline == date(2026, 10, 13)
    assert c.days_left == 5 and not c.warning


def test_statutory_clock_is_90_natural_days_and_a_last_day_on_a_holiday_moves_on():
    # 2026-07-03 + 90 days = 2026-10-01 (国庆节): the period ends on the next working day, 10-08.
    c = clock("调查取证", date(2026, 7, 3), date(2026, 9, 25), date(2026, 9, 28))
    assert c.statutory_deadline == date(2026, 10, 8)
    assert c.statutory_days_left == 10
    # 2026-08-01 + 90 = 2026-10-30 (a Friday): no move; the stage limit (30 working days) is later.
    c = clock("立案", date(2026, 8, 1), date(2026, 8, 1), date(2026, 8, 3))
    assert c.statutory_deadline == date(2026, 10, 30)


def test_pauses_stop_the_clock_and_the_extension_adds_30_days():
    opened = date(2026, 9, 1)
    closed_pause = [Pause(date(2026, 9, 10), date(2026, 9, 20))]  # 10 days of testing (检测)
    c = clock("调查取证", opened, opened, date(2026, 10, 20), closed_pause)
    assert c.statutory_deadline == date(2026, 12, 10) and c.paused_days == 10 and not c.paused
    # an open pause: the deadline moves day by day, the days left stand still
    open_pause = [Pause(date(2026, 10, 20))]
    a = clock("调查取证", opened, opened, date(2026, 10, 26), open_pause)
    b = clock("调查取证", opened, opened, date(2026, 11, 2), open_pause)
    assert a.paused and a.statutory_days_left == b.statutory_days_left
    assert b.statutory_deadline > a.statutory_deadline
    extended = clock("调查取证", opened, opened, date(2026, 10, 20), closed_pause, extension=30)
    assert extended.statutory_deadline == date(2027, 1, 11)  # 2027-01-09 is a Saturday: next working day


def test_the_statutory_clock_stops_at_the_decision():
    c = clock("执行", date(2026, 1, 5), date(2026, 11, 20), date(2026, 11, 25))
    assert c.statutory_deadline is None and c.deadline_kind == "stage"
    assert DEFAULT_LIMITS["执行"].unit == "day"


# ---- through the API ---------------------------------------------------------------------------------

def post(client, tokens, user, path, body):
    return client.post(path, json=body, headers=bearer(tokens, user))


@pytest.fixture(scope="module")
def extra_tokens(db_url, tokens):
    """A second 天河 inspector (not on the cases below) and a Guangzhou manager."""
    with closing(connect(db_url)) as conn, conn:
        for name, role, region in (("insp_tianhe_b", "inspector", "440106"), ("mgr_gz", "manager", "4401")):
            if not one(db_url, "SELECT 1 FROM users WHERE username = %s", (name,)):
                add_user(conn, name, role, region, PASSWORD)
        return {**tokens, **{n: issue_token(conn, n) for n in ("insp_tianhe_b", "mgr_gz")}}


def new_case(client, tokens, db_url, title="无证经营（测试）"):
    response = post(client, tokens, "insp_tianhe", "/api/cases",
                    {"entity_id": entity_in(db_url, "440106"), "title": title})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_case_goes_through_review_with_one_send_back_to_closure(app, extra_tokens, db_url, settings):
    tokens, client = extra_tokens, app.server.test_client()
    case_id = new_case(client, tokens, db_url)
    url = f"/api/cases/{case_id}/transitions"

    def move(user, to, **extra):
        return post(client, tokens, user, url, {"to": to, **extra})

    assert move("insp_tianhe", "法制审核").status_code == 409          # skipping 调查取证
    assert move("insp_tianhe_b", "调查取证").status_code == 403        # not an officer of this case
    assert move("insp_yuexiu", "调查取证").status_code == 404          # another district: no such case
    assert move("mgr_gz", "调查取证").status_code == 403               # wrong role for this step
    assert move("manager_sz", "调查取证").status_code == 404           # another city: no such case
    assert move("insp_tianhe", "调查取证", note="开始调查").status_code == 201
    assert move("insp_tianhe", "决定").status_code == 409              # skipping legal review
    assert move("insp_tianhe", "法制审核").status_code == 201
    refused = move("insp_tianhe", "决定")
    assert refused.status_code == 403 and "legal_reviewer" in refused.get_json()["error"]
    no_reason = move("t_reviewer_gz", "调查取证")
    assert no_reason.status_code == 400 and "退回理由" in no_reason.get_json()["error"]
    assert move("t_reviewer_gz", "调查取证", note="缺少现场照片，请补正").status_code == 201
    assert move("insp_tianhe", "法制审核", note="已补充照片").status_code == 201
    assert move("t_reviewer_gz", "决定", note="事实清楚，证据确凿，同意").status_code == 201
    assert move("mgr_gz", "执行").status_code == 400                    # no decision text
    decided = move("mgr_gz", "执行", decision="警告，并处罚款人民币五千元", penalty_yuan="5000")
    assert decided.status_code == 201, decided.get_json()
    assert move("insp_tianhe", "结案").status_code == 400               # a closing note is required
    assert move("insp_tianhe", "结案", note="罚款已缴纳").status_code == 201
    assert move("insp_tianhe", "执行").status_code == 409               # closed: nowhere to go

    record = client.get(f"/api/cases/{case_id}", headers=bearer(tokens, "t_reviewer_gz")).get_json()
    assert record["stage"] == "结案" and record["rework_count"] == 1 and record["published"] is True
    assert record["decision"] == "警告，并处罚款人民币五千元" and record["penalty_yuan"] == "5000.00"
    assert record["closed_on"] and record["decided_on"]
    steps = [(e["action"], e["from_stage"], e["to_stage"]) for e in record["timeline"]]
    assert steps == [("open", None, "立案"), ("transition", "立案", "调查取证"),
                     ("transition", "调查取证", "法制审核"), ("rework", "法制审核", "调查取证"),
                     ("transition", "调查取证", "法制审核"), ("transition", "法制审核", "决定"),
                     ("transition", "决定", "执行"), ("transition", "执行", "结案")]
    assert record["timeline"][3]["note"] == "缺少现场照片，请补正"
    assert record["chain"]["links"] == len(steps)
    with closing(connect(db_url)) as conn:
        checked, problems = verify_chains(conn, settings.evidence_dir, f"case:{case_id}")
        assert (checked, problems) == (len(steps), [])
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM audit_log WHERE object_type = 'cases' AND object_id = %s "
                        "AND action = 'update'", (str(case_id),))
            assert cur.fetchone()[0] == 7  # every stage change is audited


def test_self_approval_is_refused_through_the_api(app, extra_tokens, db_url):
    """A case opened by the reviewer (e.g. from a referral) cannot be approved by the same reviewer."""
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO cases (case_no, entity_id, title, stage, opened_on, district_adcode,
                                          created_by)
                       SELECT '自审测试' || id, id, '自审测试', '法制审核', current_date, district_adcode,
                              't_reviewer_gz'
                       FROM entities WHERE district_adcode = '440106' ORDER BY id LIMIT 1 RETURNING id""")
        case_id = cur.fetchone()[0]
    response = post(app.server.test_client(), extra_tokens, "t_reviewer_gz", f"/api/cases/{case_id}/transitions",
                    {"to": "决定", "note": "同意"})
    assert response.status_code == 403 and "不得审批本人" in response.get_json()["error"]


def test_pause_resume_and_one_extension(app, extra_tokens, db_url, settings):
    tokens, client = extra_tokens, app.server.test_client()
    case_id = new_case(client, tokens, db_url, "销售过期食品（测试）")
    base = f"/api/cases/{case_id}"
    bad = post(client, tokens, "insp_tianhe", f"{base}/pauses", {"kind": "休假"})
    assert bad.status_code == 400 and "听证、检测、鉴定" in bad.get_json()["error"]
    assert post(client, tokens, "insp_tianhe", f"{base}/pauses/resume", {}).status_code == 409
    paused = post(client, tokens, "insp_tianhe", f"{base}/pauses", {"kind": "检测", "note": "送检样品"})
    assert paused.status_code == 201
    assert post(client, tokens, "insp_tianhe", f"{base}/pauses", {"kind": "鉴定"}).status_code == 409
    listed = client.get("/api/cases", headers=bearer(tokens, "insp_tianhe")).get_json()
    mine = next(c for c in listed if c["id"] == case_id)
    assert mine["paused"] is True and mine["stage"] == "立案"
    assert post(client, tokens, "insp_tianhe", f"{base}/pauses/resume", {"note": "检测报告已出"}).status_code == 201
    assert post(client, tokens, "insp_tianhe", f"{base}/extension", {"note": "案情复杂"}).status_code == 403
    assert post(client, tokens, "t_reviewer_gz", f"{base}/extension", {}).status_code == 400
    ext = post(client, tokens, "t_reviewer_gz", f"{base}/extension", {"note": "案情复杂，需延长"})
    assert ext.status_code == 201 and ext.get_json()["extension_days"] == 30
    again = post(client, tokens, "mgr_gz", f"{base}/extension", {"note": "再次延长"})
    assert again.status_code == 409 and "只能延长一次" in again.get_json()["error"]
    record = client.get(base, headers=bearer(tokens, "insp_tianhe")).get_json()
    opened = date.fromisoformat(record["stage_since"])
    assert record["clock"]["statutory_deadline"] >= date.fromordinal(opened.toordinal() + 120).isoformat()
    assert [p["kind"] for p in record["pauses"]] == ["检测"] and record["pauses"][0]["ended_on"]
    with closing(connect(db_url)) as conn:
        assert verify_chains(conn, settings.evidence_dir, f"case:{case_id}") == (4, [])


def test_case_list_is_the_callers_own_or_their_region(app, extra_tokens, db_url):
    tokens, client = extra_tokens, app.server.test_client()
    case_id = new_case(client, tokens, db_url, "超范围经营（测试）")
    mine = client.get("/api/cases", headers=bearer(tokens, "insp_tianhe")).get_json()
    row = next(c for c in mine if c["id"] == case_id)
    assert set(row) >= {"id", "case_no", "entity", "stage", "deadline", "days_left", "overdue", "warning"}
    assert row["case_no"].startswith("穗天市监立〔") and row["stage"] == "立案"
    assert row["deadline_kind"] == "stage" and row["days_left"] == 3 and row["overdue"] is False
    assert all("insp_tianhe" in c["officers"] for c in mine)
    assert all(c["id"] != case_id for c in client.get("/api/cases", headers=bearer(tokens, "insp_tianhe_b")).get_json())
    region = client.get("/api/cases", headers=bearer(tokens, "t_reviewer_gz")).get_json()
    assert any(c["id"] == case_id for c in region) and all(c["district_adcode"].startswith("4401") for c in region)
    assert all(c["id"] != case_id for c in client.get("/api/cases", headers=bearer(tokens, "manager_sz")).get_json())
    assert client.get("/api/cases?stage=审核", headers=bearer(tokens, "t_reviewer_gz")).status_code == 400
    assert client.get("/api/cases", headers=bearer(tokens, "t_operator_gz")).status_code == 403


@pytest.mark.parametrize("user, list_shown, case_shown, actions", [
    ("t_reviewer_gz", True, True, True), ("insp_tianhe", True, True, False), ("t_operator_gz", False, False, False),
    ("manager_sz", True, False, False)])
def test_case_pages_render_for_their_roles_and_region(app, extra_tokens, db_url, user, list_shown, case_shown,
                                                      actions):
    import json

    from tests.helpers import pages_request

    client = app.server.test_client()
    case_id = new_case(client, extra_tokens, db_url, "特种设备未定期检验（测试）")

    def page(path):
        response = client.post("/_dash-update-component", json=pages_request(path), headers=bearer(extra_tokens, user))
        assert response.status_code == 200
        return json.dumps(response.get_json(), ensure_ascii=False)

    assert ("zt-cases-stage" in page("/cases")) == list_shown
    text = page(f"/case/{case_id}")
    assert ("zt-case-timeline" in text) == case_shown
    assert ("zt-case-submit" in text) == actions  # inspectors read here and act from the field
    if user == "manager_sz":
        assert "不存在或不在您的辖区" in text
