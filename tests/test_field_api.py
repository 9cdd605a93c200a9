"""Field API: ad-hoc tasks, my tasks, on-site check-ins with reasons, nearby entities, the chain."""

from __future__ import annotations

import json
from contextlib import closing
from datetime import date, timedelta

import pytest
from pyproj import Geod

from enforcement.verify import verify_chains
from geo.db import Database, connect
from tests.conftest import bearer
from tests.helpers import entity_in, one

TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def task(app, tokens, db_url):
    """A task on a 天河 entity for insp_tianhe, made through the API by the administrator."""
    entity = entity_in(db_url, "440106")
    response = app.server.test_client().post(
        "/api/tasks", json={"entity_id": entity, "assignees": ["insp_tianhe"], "due": TOMORROW,
                            "kind": "complaint"}, headers=bearer(tokens, "t_admin_gd"))
    assert response.status_code == 201, response.get_json()
    lon, lat = (one(db_url, f"SELECT ST_{c}(geom) FROM entities WHERE id = %s", (entity,)) for c in "XY")
    return {"id": response.get_json()["id"], "entity": entity, "lon": lon, "lat": lat}


@pytest.mark.parametrize("body, status, fragment", [
    ({"assignees": ["insp_tianhe"], "due": TOMORROW, "kind": "complaint"}, 400, "缺少字段"),
    ({"assignees": ["insp_yuexiu"], "due": TOMORROW, "kind": "complaint"}, 400, "不含该对象所在区县"),
    ({"assignees": ["nobody_x"], "due": TOMORROW, "kind": "complaint"}, 400, "无此用户"),
    ({"assignees": ["t_reviewer_gz"], "due": TOMORROW, "kind": "complaint"}, 400, "不是在岗执法人员"),
    ({"assignees": ["insp_tianhe"], "due": "2020-01-01", "kind": "complaint"}, 400, "早于今天"),
    ({"assignees": ["insp_tianhe"], "due": "tomorrow", "kind": "complaint"}, 400, "YYYY-MM-DD"),
    ({"assignees": ["insp_tianhe"], "due": TOMORROW, "kind": "party"}, 400, "kind"),
])
def test_bad_task_requests(app, tokens, db_url, body, status, fragment):
    if "assignees" in body and "entity_id" not in body and fragment != "缺少字段":
        body = {**body, "entity_id": entity_in(db_url, "440106")}
    response = app.server.test_client().post("/api/tasks", json=body, headers=bearer(tokens, "t_admin_gd"))
    assert response.status_code == status
    assert fragment in response.get_json()["error"]


def test_task_creation_is_for_supervisors_in_their_region(app, tokens, db_url):
    client = app.server.test_client()
    body = {"entity_id": entity_in(db_url, "440106"), "assignees": ["insp_tianhe"], "due": TOMORROW,
            "kind": "campaign"}
    assert client.post("/api/tasks", json=body, headers=bearer(tokens, "insp_tianhe")).status_code == 403
    assert client.post("/api/tasks", json=body, headers=bearer(tokens, "manager_sz")).status_code == 404


def test_my_tasks_and_region_tasks(app, tokens, task):
    client = app.server.test_client()
    mine = client.get(f"/api/tasks?lon={task['lon']}&lat={task['lat']}",
                      headers=bearer(tokens, "insp_tianhe")).get_json()
    assert mine[0]["id"] == task["id"] and mine[0]["distance_m"] < 1  # nearest first
    assert set(mine[0]) >= {"id", "entity_id", "entity_name", "lon", "lat", "due_date", "status",
                            "assignees"}
    assert all("insp_tianhe" in t["assignees"] for t in mine)
    other = client.get("/api/tasks", headers=bearer(tokens, "insp_yuexiu")).get_json()
    assert all(t["id"] != task["id"] for t in other)
    region = client.get("/api/tasks", headers=bearer(tokens, "t_reviewer_gz")).get_json()
    assert any(t["id"] == task["id"] for t in region) and len(region) > len(mine)


def checkin(client, tokens, task, **overrides):
    body = {"task_id": task["id"], "lon": task["lon"], "lat": task["lat"], "accuracy_m": 8,
            "at": "2020-01-01T08:00:00+08:00", **overrides}
    return client.post("/api/checkins", json=body, headers=bearer(tokens, "insp_tianhe"))


def test_on_site_checkin_is_stamped_by_the_server(app, tokens, task, db_url):
    response = checkin(app.server.test_client(), tokens, task)
    body = response.get_json()
    assert response.status_code == 201
    assert body["on_site"] is True and body["reason_required"] is False and body["distance_m"] < 1
    stamped = one(db_url, "SELECT extract(year FROM server_time) FROM checkins WHERE id = %s",
                  (body["id"],))
    assert stamped >= 2026  # the phone said 2020; the record keeps both
    assert one(db_url, "SELECT phone_time::date FROM checkins WHERE id = %s", (body["id"],)).year == 2020


def test_off_site_checkin_demands_a_reason_once(app, tokens, task):
    client = app.server.test_client()
    far = checkin(client, tokens, task, lat=task["lat"] + 0.01).get_json()  # about 1.1 km north
    assert far["on_site"] is False and far["reason_required"] is True
    assert 1000 < far["distance_m"] < 1250
    headers = bearer(tokens, "insp_tianhe")
    ok = client.post(f"/api/checkins/{far['id']}/reason", json={"reason": "企业已搬迁，门店关闭"},
                     headers=headers)
    assert ok.status_code == 201
    again = client.post(f"/api/checkins/{far['id']}/reason", json={"reason": "再次"}, headers=headers)
    assert again.status_code == 400


def test_a_vague_fix_is_not_accepted_as_on_site(app, tokens, task):
    body = checkin(app.server.test_client(), tokens, task, accuracy_m=800).get_json()
    assert body["accuracy_ok"] is False and body["on_site"] is False and body["reason_required"]


def test_accuracy_widens_the_site(app, tokens, task):
    # 150 m away with a 60 m fix: within radius 100 + accuracy 60
    body = checkin(app.server.test_client(), tokens, task, lat=task["lat"] + 0.00135,
                   accuracy_m=60).get_json()
    assert body["on_site"] is True and 140 < body["distance_m"] < 160


@pytest.mark.parametrize("overrides, fragment", [
    ({"lon": "east"}, "lon"), ({"lat": 95}, "超出范围"), ({"accuracy_m": -1}, "accuracy_m"),
    ({"at": "yesterday"}, "ISO 8601"), ({"at": "2026-11-25T08:00:00"}, "时区"),
])
def test_bad_checkins_are_400(app, tokens, task, overrides, fragment):
    response = checkin(app.server.test_client(), tokens, task, **overrides)
    assert response.status_code == 400 and fragment in response.get_json()["error"]


def test_checkins_only_by_the_assigned_inspector_in_region(app, tokens, task):
    client = app.server.test_client()
    body = {"task_id": task["id"], "lon": task["lon"], "lat": task["lat"], "accuracy_m": 5}
    assert client.post("/api/checkins", json=body, headers=bearer(tokens, "insp_yuexiu")).status_code == 404
    assert client.post("/api/checkins", json=body, headers=bearer(tokens, "t_admin_gd")).status_code == 403


def test_checkins_are_append_only(db_url, task, app, tokens):
    checkin(app.server.test_client(), tokens, task)
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        with pytest.raises(Exception, match="append-only"):
            cur.execute("UPDATE checkins SET on_site = true WHERE task_id = %s", (task["id"],))


def test_nearby_matches_brute_force(db_url):
    lon, lat, radius = 113.3245, 23.1291, 1500.0
    database = Database(db_url)
    try:
        with database.connection({"region": "44"}) as conn:
            from enforcement.field import nearby_entities

            got = nearby_entities(conn, lon, lat, radius)
    finally:
        database.close()
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom) FROM entities WHERE geom && "
                    "ST_MakeEnvelope(%s, %s, %s, %s, 4326)", (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05))
        rows = cur.fetchall()
    geod = Geod(ellps="WGS84")
    brute = sorted((geod.inv(lon, lat, x, y)[2], i) for i, x, y in rows)
    within = [i for d, i in brute if d <= radius]
    assert [r["id"] for r in got] == within
    assert all(abs(r["distance_m"] - d) < 1 for r, (d, _) in zip(got, brute, strict=False))


def test_chain_verifies_and_detects_tampering(db_url, task, app, tokens, tmp_path):
    checkin(app.server.test_client(), tokens, task)
    key = f"task:{task['id']}"
    with closing(connect(db_url)) as conn:
        count, problems = verify_chains(conn, tmp_path, key)
        assert count >= 2 and problems == []
        with conn.cursor() as cur:  # an insider edits history behind the triggers' back
            cur.execute("ALTER TABLE checkins DISABLE TRIGGER append_only")
            cur.execute("UPDATE checkins SET distance_m = 0 WHERE task_id = %s", (task["id"],))
            _, problems = verify_chains(conn, tmp_path, key)
            conn.rollback()
    assert any("changed after it was chained" in p for p in problems)


def test_supervisors_create_tasks_from_the_desktop_page(app, tokens, db_url):
    from tests.helpers import pages_request, task_create_request

    client = app.server.test_client()
    headers = bearer(tokens, "t_admin_gd")
    page = client.post("/_dash-update-component", json=pages_request("/tasks"), headers=headers)
    assert "zt-task-create" in json.dumps(page.get_json(), ensure_ascii=False)
    entity = entity_in(db_url, "440106")
    options = client.post("/_dash-update-component", headers=headers, json={
        **task_create_request(None, [], None), "output": "zt-task-assignees.options",
        "outputs": {"id": "zt-task-assignees", "property": "options"},
        "inputs": [{"id": "zt-task-entity", "property": "value", "value": entity}], "state": [],
        "changedPropIds": ["zt-task-entity.value"]}).get_json()
    offered = {o["value"] for o in options["response"]["zt-task-assignees"]["options"]}
    assert "insp_tianhe" in offered and "insp_yuexiu" not in offered
    done = client.post("/_dash-update-component", headers=headers,
                       json=task_create_request(entity, ["insp_tianhe"], TOMORROW))
    assert "已创建任务" in json.dumps(done.get_json(), ensure_ascii=False)
    assert one(db_url, "SELECT count(*) FROM inspection_tasks WHERE created_by = 't_admin_gd' "
                       "AND entity_id = %s AND kind = 'complaint'", (entity,)) >= 1
    refused = client.post("/_dash-update-component", headers=headers,
                          json=task_create_request(entity, ["insp_yuexiu"], TOMORROW))
    assert "不含该对象所在区县" in json.dumps(refused.get_json(), ensure_ascii=False)
