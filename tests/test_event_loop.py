"""The closed loop 信息收集 → 立案 → 派遣 → 处置 → 反馈 → 核查 → 结案: steps, roles, deadlines, rework."""

from __future__ import annotations

from datetime import datetime

import pytest

from cityops import events
from geo.errors import Forbidden
from geo.workdays import SHANGHAI
from tests.conftest import bearer
from tests.helpers import one

TIANHE = (113.3450, 23.1500)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def new_event(conn, category="0301", when="2026-11-27T15:00", lon=TIANHE[0]) -> int:
    moment = at(when)
    result = events.register(conn, {"category": category, "lon": lon, "lat": TIANHE[1], "description": "夜间施工",
                                    "source": "hotline", "reported_at": moment.isoformat()},
                             "t_operator_gz", "4401", "operator", now=moment)
    assert result["merged"] is False
    return result["id"]


def step(conn, event_id, to, when, role="operator", note=None, department=None):
    return events.transition(conn, event_id, to, note, f"user_{role}", role, department, at=at(when))


def test_deadline_counts_office_hours_across_a_weekend(conn):
    # 施工扰民 0301: 4 working hours. 立案 on Friday 2026-11-27 at 16:00: 1.5 h on Friday (to 17:30),
    # the weekend does not count, 2.5 h on Monday from 08:30 → Monday 11:00.
    event_id = new_event(conn)
    accepted = step(conn, event_id, "立案", "2026-11-27T16:00")
    assert datetime.fromisoformat(accepted["deadline"]) == at("2026-11-30T11:00")
    assert accepted["department"] == "住房和城乡建设局"  # the category's department by default
    saturday = events.get_event(conn, event_id, now=at("2026-11-28T20:00"))
    monday_early = events.get_event(conn, event_id, now=at("2026-11-30T10:59"))
    monday_late = events.get_event(conn, event_id, now=at("2026-11-30T11:01"))
    assert (saturday["overdue"], monday_early["overdue"], monday_late["overdue"]) == (False, False, True)
    overdue_ids = {e["id"] for e in events.list_events(conn, overdue=True, now=at("2026-11-30T11:01"))}
    assert event_id in overdue_ids


def test_the_whole_loop_with_rework_keeps_the_deadline(conn):
    event_id = new_event(conn, lon=TIANHE[0] + 0.01)
    deadline = step(conn, event_id, "立案", "2026-11-27T16:00")["deadline"]
    dispatched = step(conn, event_id, "派遣", "2026-11-27T16:10", department="天河区住建局")
    assert dispatched["department"] == "天河区住建局"
    step(conn, event_id, "处置", "2026-11-27T16:30", role="inspector")
    step(conn, event_id, "反馈", "2026-11-27T17:00", role="inspector", note="已责令停工")
    step(conn, event_id, "核查", "2026-11-30T09:00")
    with pytest.raises(Exception, match="返工须说明"):
        step(conn, event_id, "处置", "2026-11-30T09:05")
    reworked = step(conn, event_id, "处置", "2026-11-30T09:05", note="现场仍在施工")
    assert reworked["rework_count"] == 1 and reworked["deadline"] == deadline
    step(conn, event_id, "反馈", "2026-11-30T10:00", role="inspector")
    step(conn, event_id, "核查", "2026-11-30T10:30")
    closed = step(conn, event_id, "结案", "2026-11-30T10:45")
    assert closed["status"] == "结案" and closed["closed_late"] is False and closed["overdue"] is False
    history = events.get_event(conn, event_id)["transitions"]
    assert [t["to_status"] for t in history] == ["信息收集", "立案", "派遣", "处置", "反馈", "核查", "处置",
                                                 "反馈", "核查", "结案"]
    assert history[3]["username"] == "user_inspector" and history[3]["role"] == "inspector"
    assert history[6]["note"] == "现场仍在施工"


def test_closing_after_the_deadline_is_recorded_as_late(conn):
    event_id = new_event(conn, lon=TIANHE[0] + 0.02)
    step(conn, event_id, "立案", "2026-11-27T16:00")
    for to, when, role in (("派遣", "2026-11-27T16:05", "operator"), ("处置", "2026-11-30T09:00", "inspector"),
                           ("反馈", "2026-11-30T12:00", "inspector"), ("核查", "2026-11-30T14:30", "operator"),
                           ("结案", "2026-11-30T15:00", "operator")):
        step(conn, event_id, to, when, role=role)
    closed = events.get_event(conn, event_id, now=at("2026-12-01T09:00"))
    assert closed["closed_late"] is True and closed["overdue"] is False


@pytest.mark.parametrize("path, to", [([], "派遣"), ([], "结案"), (["立案"], "处置"), (["立案", "派遣"], "核查"),
                                      (["立案"], "立案"), ([], "信息收集")])
def test_a_skipped_or_repeated_stage_is_a_conflict(conn, path, to):
    event_id = new_event(conn, lon=TIANHE[0] + 0.03)
    for n, stage in enumerate(path):
        step(conn, event_id, stage, f"2026-11-27T16:0{n}")
    with pytest.raises(events.TransitionConflict, match="不能从"):
        step(conn, event_id, to, "2026-11-27T16:30")


def test_roles_per_step(conn):
    event_id = new_event(conn, lon=TIANHE[0] + 0.04)
    with pytest.raises(Forbidden):
        step(conn, event_id, "立案", "2026-11-27T16:00", role="inspector")
    step(conn, event_id, "立案", "2026-11-27T16:00")
    step(conn, event_id, "派遣", "2026-11-27T16:01")
    with pytest.raises(Forbidden):
        step(conn, event_id, "处置", "2026-11-27T16:02", role="manager")
    assert events.allowed_next("核查", "operator") == ["结案", "处置"]
    assert events.allowed_next("核查", "inspector") == []


def _post(client, tokens, user, body):
    return client.post("/api/events", json=body, headers=bearer(tokens, user))


def test_the_loop_over_http(client, tokens, db_url):
    created = _post(client, tokens, "insp_tianhe", {
        "category": "0603", "lon": 113.3610, "lat": 23.1260, "description": "路灯不亮", "source": "grid",
        "reported_at": "2026-03-03T20:00:00+08:00"})
    assert created.status_code == 201
    event_id = created.get_json()["id"]
    url = f"/api/events/{event_id}/transitions"
    op, insp = bearer(tokens, "t_operator_gz"), bearer(tokens, "insp_tianhe")
    skipped = client.post(url, json={"to": "派遣"}, headers=op)
    assert skipped.status_code == 409 and "下一环节应为：立案" in skipped.get_json()["error"]
    assert client.post(url, json={"to": "立案"}, headers=insp).status_code == 403
    accepted = client.post(url, json={"to": "立案", "note": "属实"}, headers=op)
    assert accepted.status_code == 201 and accepted.get_json()["deadline"]
    assert client.post(url, json={"to": "派遣", "department": "天河区城管局"}, headers=op).status_code == 201
    assert client.post(url, json={"to": "处置"}, headers=insp).status_code == 201
    assert client.post(url, json={"to": "到处"}, headers=op).status_code == 400
    assert client.post(url, json={"note": "x"}, headers=op).status_code == 400
    # another district's inspector cannot see it at all
    assert client.post(url, json={"to": "反馈"}, headers=bearer(tokens, "insp_yuexiu")).status_code == 404
    detail = client.get(f"/api/events/{event_id}", headers=op).get_json()
    assert detail["status"] == "处置" and detail["department"] == "天河区城管局"
    assert [t["to_status"] for t in detail["transitions"]] == ["信息收集", "立案", "派遣", "处置"]
    assert detail["transitions"][1]["username"] == "t_operator_gz" and detail["next"] == ["反馈"]
    assert one(db_url, "SELECT count(*) FROM event_transitions WHERE event_id = %s", (event_id,)) == 4
    listed = client.get("/api/events?status=处置&district=440106", headers=op).get_json()
    assert event_id in {e["id"] for e in listed}
    assert client.get("/api/events?status=done", headers=op).status_code == 400
    assert client.get("/api/events?bbox=1,2,3", headers=op).status_code == 400
    in_box = client.get("/api/events?bbox=113.36,23.12,113.37,23.13", headers=op).get_json()
    assert event_id in {e["id"] for e in in_box}
    assert client.get(f"/api/events/{event_id}", headers=bearer(tokens, "manager_sz")).status_code == 404


def test_changes_since_a_cursor(client, tokens):
    op = bearer(tokens, "t_operator_gz")
    first = client.get("/api/events/changes", headers=op).get_json()
    cursor = first["cursor"]
    quiet = client.get(f"/api/events/changes?cursor={cursor}", headers=op).get_json()
    new = _post(client, tokens, "t_operator_gz", {
        "category": "0604", "lon": 113.3700, "lat": 23.1300, "description": "垃圾箱破损", "source": "citizen"})
    event_id = new.get_json()["id"]
    after = client.get("/api/events/changes", query_string={"cursor": cursor}, headers=op).get_json()
    assert event_id in {e["id"] for e in after["events"]}
    assert event_id not in {e["id"] for e in quiet["events"]}
    assert after["cursor"] >= cursor
    assert client.get("/api/events/changes?cursor=soon", headers=op).status_code == 400
