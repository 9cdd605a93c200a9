"""The wall's data: a snapshot, then deltas carrying only what changed; KPIs; jurisdiction."""

from __future__ import annotations

from contextlib import closing

import pytest

from cityops import events as ev
from cityops import wall
from geo.db import connect
from tests.conftest import bearer

TIANHE = {"category": "0101", "lon": 113.3305, "lat": 23.1355, "description": "天河路口暴露垃圾（大屏测试）",
          "source": "hotline"}


def age_everything(conn) -> None:
    """Push every row's ``updated_at`` an hour back (the touch trigger is off for this transaction)."""
    with conn.cursor() as cur:
        for table in ("city_events", "sensors", "alerts"):
            cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER touch_updated_at")
            cur.execute(f"UPDATE {table} SET updated_at = updated_at - interval '1 hour'")
            cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER touch_updated_at")


def region_sql(conn, region: str) -> dict:
    """The KPI numbers computed independently, as the owner, for one region."""
    with conn.cursor() as cur:
        cur.execute("""
            WITH e AS (SELECT * FROM city_events WHERE district_adcode LIKE %(r)s || '%%'),
                 d AS (SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai')
                               AT TIME ZONE 'Asia/Shanghai') AS start)
            SELECT (SELECT count(*) FROM e, d WHERE reported_at >= d.start),
                   (SELECT count(*) FROM e WHERE status <> '结案'),
                   (SELECT count(*) FROM e WHERE status <> '结案' AND deadline < now()),
                   (SELECT count(*) FROM e, d WHERE status = '结案' AND closed_at >= d.start - interval '29 days'),
                   (SELECT count(*) FROM e, d WHERE status = '结案' AND closed_at >= d.start - interval '29 days'
                                              AND closed_at <= deadline)""", {"r": region})
        today, open_, overdue, closed, on_time = cur.fetchone()
        cur.execute("SELECT status, count(*) FROM city_events WHERE district_adcode LIKE %s || '%%' "
                    "AND status <> '结案' GROUP BY 1", (region,))
        by_status = dict(cur.fetchall())
    return {"today": today, "open": open_, "overdue": overdue, "closed": closed, "closed_on_time": on_time,
            "by_status": by_status}


def test_cursor_round_trip_and_bad_cursors():
    marks = {"e": 1, "s": 22, "a": 333, "t": 4444}
    assert wall.parse_cursor(wall.make_cursor(marks)) == marks
    for bad in ("", "e1.s2.a3", "x1.s2.a3.t4", "e1.s2.a3.t4;drop", None):
        with pytest.raises(Exception, match="cursor"):
            wall.parse_cursor(bad)


def test_delta_carries_only_what_changed_since_the_cursor(conn):
    age_everything(conn)
    first = wall.snapshot(conn)
    assert first["events"], "the demo data has events"
    quiet = wall.changes(conn, first["cursor"])
    assert quiet["events"] == [] and quiet["sensors"] == [] and quiet["alerts"] == []
    assert wall.parse_cursor(quiet["cursor"])["e"] >= wall.parse_cursor(first["cursor"])["e"]  # only forward
    # one new report and one step of an old event
    created = ev.register(conn, TIANHE, "t_operator_gz", "4401", "operator")
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM city_events WHERE status = '信息收集' AND id <> %s ORDER BY id LIMIT 1",
                    (created["id"],))
        old = cur.fetchone()[0]
    ev.transition(conn, old, "立案", "受理", "t_operator_gz", "operator")
    delta = wall.changes(conn, first["cursor"])
    assert {e["id"] for e in delta["events"]} == {created["id"], old}
    moved = next(e for e in delta["events"] if e["id"] == old)
    assert moved["status"] == "立案" and moved["deadline"] is not None
    new = next(e for e in delta["events"] if e["id"] == created["id"])
    assert new["district_adcode"] == "440106" and new["status"] == "信息收集"
    assert abs(new["lon"] - TIANHE["lon"]) < 1e-5 and new["description"] == TIANHE["description"]
    # the cursor moved past both rows, and the KPIs came along
    assert wall.parse_cursor(delta["cursor"])["e"] >= max(e["v"] for e in delta["events"])
    assert delta["kpi"] == wall.kpis(conn)
    assert len(delta["hourly"]["hours"]) == 2
    assert sum(delta["hourly"]["counts"]["hotline"]) >= 1


def test_old_cursor_asks_for_a_snapshot(conn):
    stale = wall.make_cursor({"e": 1_000_000, "s": 1_000_000, "a": 1_000_000, "t": 1_000_000})
    assert wall.changes(conn, stale)["resync"] is True


def test_kpis_match_the_database(conn):
    ev.register(conn, TIANHE, "t_operator_gz", "4401", "operator")  # at least one event today
    got = wall.kpis(conn)
    want = region_sql(conn, "44")
    assert {k: got[k] for k in ("today", "open", "overdue", "closed", "closed_on_time")} == \
        {k: want[k] for k in ("today", "open", "overdue", "closed", "closed_on_time")}
    assert {k: v for k, v in got["by_status"].items() if v} == want["by_status"]
    assert got["open"] > 0 and got["today"] > 0
    rate = got["on_time_rate"]
    assert rate is None if not want["closed"] else rate == round(want["closed_on_time"] / want["closed"], 4)


def test_scenes_are_the_city_then_its_districts(conn):
    scenes = wall.scenes(conn, "4401")
    assert scenes[0]["adcode"] == "440100" and scenes[0]["level"] == "city"
    codes = [s["adcode"] for s in scenes[1:]]
    assert "440106" in codes and all(c.startswith("4401") for c in codes) and len(codes) == 11
    x0, y0, x1, y1 = scenes[0]["bounds"]
    assert x0 < 113.33 < x1 and y0 < 23.13 < y1
    assert [s["adcode"] for s in wall.scenes(conn, "440106")] == ["440106"]
    assert wall.scenes(conn, "44", "4403")[0]["adcode"] == "440300"


def test_http_snapshot_kpis_and_jurisdiction(client, tokens, db_url):
    gz = client.get("/api/ops/snapshot", headers=bearer(tokens, "t_operator_gz"))
    assert gz.status_code == 200 and gz.headers["Cache-Control"] == "no-store"
    body = gz.get_json()
    assert body["events"] and all(e["district_adcode"].startswith("4401") for e in body["events"])
    assert all(a["district_adcode"].startswith("4401") for a in body["alerts"])
    with closing(connect(db_url)) as owner:
        want = region_sql(owner, "4401")
        with owner.cursor() as cur:
            cur.execute("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL AND district_adcode LIKE '4401%'")
            alerts_open = cur.fetchone()[0]
    assert body["kpi"]["open"] == want["open"] and body["kpi"]["today"] == want["today"]
    assert body["kpi"]["overdue"] == want["overdue"] and body["kpi"]["alerts_open"] == alerts_open
    sz = client.get("/api/ops/snapshot", headers=bearer(tokens, "manager_sz")).get_json()
    assert all(e["district_adcode"].startswith("4403") for e in sz["events"])
    assert not {e["id"] for e in sz["events"]} & {e["id"] for e in body["events"]}
    # a delta right after the snapshot; a malformed cursor is a 400 with a message
    delta = client.get("/api/ops/changes", query_string={"cursor": body["cursor"]},
                       headers=bearer(tokens, "t_operator_gz"))
    assert delta.status_code == 200 and "kpi" in delta.get_json()
    bad = client.get("/api/ops/changes?cursor=nope", headers=bearer(tokens, "t_operator_gz"))
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]
    assert client.get("/api/ops/snapshot", headers=bearer(tokens, "insp_tianhe")).status_code == 403
    assert client.get("/api/ops/snapshot").status_code == 401


def test_http_delta_sees_an_event_posted_by_another_client(client, tokens, db_url):
    headers = bearer(tokens, "t_operator_gz")
    cursor = client.get("/api/ops/snapshot", headers=headers).get_json()["cursor"]
    with closing(connect(db_url)) as owner, owner:
        created = ev.register(owner, {**TIANHE, "description": "另一客户端上报"}, "t_operator_gz", "4401",
                              "operator")
    delta = client.get("/api/ops/changes", query_string={"cursor": cursor}, headers=headers).get_json()
    assert created["id"] in {e["id"] for e in delta["events"]}
    # Shenzhen's manager does not see Guangzhou's event in their delta
    sz_cursor = client.get("/api/ops/snapshot", headers=bearer(tokens, "manager_sz")).get_json()["cursor"]
    sz = client.get("/api/ops/changes", query_string={"cursor": sz_cursor},
                    headers=bearer(tokens, "manager_sz")).get_json()
    assert created["id"] not in {e["id"] for e in sz["events"]}


@pytest.mark.parametrize("role", ["inspector", "legal_reviewer", "operator", "manager", "admin"])
def test_wall_and_desk_render_only_for_their_roles(client, tokens, role):
    """The pages' layouts: the wall for operator/manager/admin; the desk's forms only for writers."""
    import json

    from tests.conftest import BY_ROLE
    from tests.helpers import pages_request

    headers = bearer(tokens, BY_ROLE[role])
    wall_page = json.dumps(client.post("/_dash-update-component", json=pages_request("/ops"),
                                       headers=headers).get_json(), ensure_ascii=False)
    assert ("zt-ops-wall" in wall_page) == (role in ("operator", "manager", "admin"))
    desk = json.dumps(client.post("/_dash-update-component", json=pages_request("/ops/desk"),
                                  headers=headers).get_json(), ensure_ascii=False)
    assert ("zt-desk-queue" in desk) == (role in ("operator", "manager", "admin"))
    assert ('"id": "zt-desk-register"' in desk) == (role in ("operator", "admin"))
    if role == "operator":
        # the wall's configuration: the city first, then its districts, with bounds
        assert '"adcode": "440100"' in wall_page and '"adcode": "440106"' in wall_page


def test_desk_acknowledges_an_alert_once(client, tokens, db_url):
    """A reading past its threshold raises an alert; the desk's 确认 records who, a second click says so."""
    import json
    from datetime import UTC, datetime

    from tests.helpers import OPS_DESK_READ_CALLBACKS, _pattern_request, one

    sensor, threshold = one(db_url, "SELECT array[id, threshold_high] FROM sensors WHERE district_adcode LIKE '4401%%'"
                                    " AND threshold_high IS NOT NULL AND state = 'normal' ORDER BY id LIMIT 1")
    operator = bearer(tokens, "t_operator_gz")
    raised = client.post(f"/api/sensors/{int(sensor)}/readings", headers=operator,
                         json=[{"at": datetime.now(UTC).isoformat(), "value": threshold * 3}])
    assert raised.status_code in (200, 201), raised.get_json()
    alert = one(db_url, "SELECT max(id) FROM alerts WHERE sensor_id = %s AND acknowledged_at IS NULL", (int(sensor),))
    def text(response) -> str:
        return json.dumps(response.get_json(), ensure_ascii=False, separators=(",", ":"))

    listed = text(client.post("/_dash-update-component", headers=operator,
                              json=OPS_DESK_READ_CALLBACKS["zt-desk-alerts.children"]))
    assert f'"data-alert":"{alert}"' in listed and "确认" in listed
    output = "..zt-desk-ack-message.children...zt-desk-acked.data.."
    body = _pattern_request(output, {"type": "zt-desk-ack", "id": alert}, "n_clicks", 1, [])
    first = text(client.post("/_dash-update-component", headers=operator, json=body))
    assert f"告警 {alert} 已确认" in first
    assert one(db_url, "SELECT acknowledged_by FROM alerts WHERE id = %s", (alert,)) == "t_operator_gz"
    again = text(client.post("/_dash-update-component", headers=operator, json=body))
    assert "已由 t_operator_gz" in again
    # a manager reads the list but has no button, and the write callback refuses them
    manager_list = client.post("/_dash-update-component", headers=bearer(tokens, "manager_sz"),
                               json=OPS_DESK_READ_CALLBACKS["zt-desk-alerts.children"])
    assert manager_list.status_code == 200 and "zt-desk-ack" not in text(manager_list)
    assert client.post("/_dash-update-component", headers=bearer(tokens, "manager_sz"), json=body).status_code == 403


def test_wall_on_time_rate_is_the_kpi(client, tokens):
    """One definition: the wall's 按期结案率 is /api/kpi/event_on_time for the caller's last 30 days."""
    operator = bearer(tokens, "t_operator_gz")
    figures = client.get("/api/ops/snapshot", headers=operator).get_json()["kpi"]
    assert figures["on_time_kpi"] == "event_on_time"
    report = client.get(f"/api/kpi/event_on_time?region=4401&from={figures['on_time_from']}"
                        f"&to={figures['on_time_to']}", headers=operator).get_json()
    assert (figures["on_time_numerator"], figures["on_time_denominator"]) == (report["numerator"],
                                                                            report["denominator"])
    assert figures["on_time_rate"] == (None if report["value"] is None else report["value"] / 100)
    delta = client.get("/api/ops/changes?cursor=" + client.get("/api/ops/snapshot", headers=operator)
                       .get_json()["cursor"], headers=operator).get_json()
    assert delta["kpi"]["on_time_rate"] == figures["on_time_rate"]


def test_desk_opens_the_event_named_in_the_link(client, tokens, db_url):
    """/ops/desk?event=ID (the KPI records' link) shows that event; a bad or foreign id says why."""
    import json

    from tests.helpers import one, pages_request

    event = one(db_url, "SELECT min(id) FROM city_events WHERE district_adcode LIKE '4401%%'")
    operator = bearer(tokens, "t_operator_gz")

    def page(query: str) -> str:
        body = pages_request("/ops/desk")
        body["inputs"][0]["value"] = "/ops/desk"
        body["inputs"][1]["value"] = query
        return json.dumps(client.post("/_dash-update-component", json=body, headers=operator).get_json(),
                          ensure_ascii=False)

    shown = page(f"?event={event}")
    assert f"事件 {event}" in shown and f'"data-id": "{event}"' in shown
    assert "事件编号无效" in page("?event=abc")
    foreign = one(db_url, "SELECT min(id) FROM city_events WHERE district_adcode NOT LIKE '4401%%'")
    assert foreign is not None
    other = page(f"?event={foreign}")
    assert f'"data-id": "{foreign}"' not in other and "不在您的辖区" in other
