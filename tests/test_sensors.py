"""Sensors: readings as a time series, threshold → alert → event (merged with people's reports), ack."""

from __future__ import annotations

import uuid
from contextlib import closing
from datetime import datetime, timedelta

import pytest

from cityops import sensors
from geo.db import connect
from geo.workdays import SHANGHAI
from tests.conftest import bearer
from tests.helpers import one


def make_sensor(db_url: str, lon: float, lat: float, district: str, kind: str = "water_level") -> int:
    spec = sensors.KINDS[kind]
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("INSERT INTO sensors (code, kind, name, geom, district_adcode, grid_code, unit, threshold_high) "
                    "VALUES (%s, %s, '测试传感器', ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, "
                    "zt_grid_code(%s, ST_SetSRID(ST_MakePoint(%s, %s), 4326)), %s, %s) RETURNING id",
                    (f"T-{uuid.uuid4().hex[:10]}", kind, lon, lat, district, district, lon, lat, spec.unit,
                     spec.threshold_high))
        return cur.fetchone()[0]


def ago(minutes: float) -> str:
    return (datetime.now(SHANGHAI) - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def sensor(db_url):
    return make_sensor(db_url, 113.3200 + uuid.uuid4().int % 1000 * 1e-5, 23.1180, "440106")


def post(client, tokens, sensor_id, readings, user="t_operator_gz"):
    return client.post(f"/api/sensors/{sensor_id}/readings", json=readings, headers=bearer(tokens, user))


def test_readings_are_stored_and_move_the_latest_value(client, tokens, db_url, sensor):
    first = ago(20)
    response = post(client, tokens, sensor, [{"at": first, "value": 0.01}, {"at": ago(10), "value": 0.03}])
    assert response.status_code == 201
    body = response.get_json()
    assert body["stored"] == 2 and body["alerts"] == [] and body["state"] == "normal"
    assert float(one(db_url, "SELECT last_value FROM sensors WHERE id = %s", (sensor,))) == pytest.approx(0.03)
    again = post(client, tokens, sensor, [{"at": first, "value": 0.01}]).get_json()  # replay
    assert again["stored"] == 0 and again["duplicates"] == 1
    history = client.get(f"/api/sensors/{sensor}/readings", headers=bearer(tokens, "manager_sz")).get_json()
    assert history == []  # a Shenzhen manager sees no Guangzhou readings
    history = client.get(f"/api/sensors/{sensor}/readings", headers=bearer(tokens, "t_reviewer_gz")).get_json()
    assert [r["value"] for r in history] == [0.01, 0.03]


def test_threshold_raises_one_alert_that_opens_an_event(client, tokens, db_url, sensor):
    body = post(client, tokens, sensor, [{"at": ago(9), "value": 0.05}, {"at": ago(6), "value": 0.31},
                                         {"at": ago(3), "value": 0.40}]).get_json()
    assert body["state"] == "alarm" and len(body["alerts"]) == 1 and len(body["events"]) == 1
    event_id = body["events"][0]
    event = client.get(f"/api/events/{event_id}", headers=bearer(tokens, "t_operator_gz")).get_json()
    assert event["category"] == "0401" and event["source"] == "sensor" and event["status"] == "信息收集"
    assert event["reports"][0]["alert_id"] == body["alerts"][0]
    assert "超过阈值 0.15" in event["description"]
    assert one(db_url, "SELECT event_id FROM alerts WHERE id = %s", (body["alerts"][0],)) == event_id
    # still past the threshold: no second alert; back to normal, then past it again: a new alert
    assert post(client, tokens, sensor, [{"at": ago(2), "value": 0.5}]).get_json()["alerts"] == []
    assert post(client, tokens, sensor, [{"at": ago(1.5), "value": 0.02}]).get_json()["state"] == "normal"
    assert len(post(client, tokens, sensor, [{"at": ago(1), "value": 0.2}]).get_json()["alerts"]) == 1
    # an old reading is history, it does not move the state
    late = post(client, tokens, sensor, [{"at": ago(60), "value": 0.9}]).get_json()
    assert late["stored"] == 1 and late["alerts"] == [] and late["state"] == "alarm"


def test_a_hotline_ticket_about_the_sensors_incident_merges_into_its_event(client, tokens, db_url):
    sensor = make_sensor(db_url, 113.3900, 23.1400, "440106")
    alarm = post(client, tokens, sensor, [{"at": ago(15), "value": 0.35}]).get_json()
    event_id = alarm["events"][0]
    ticket = client.post("/api/events", headers=bearer(tokens, "t_operator_gz"), json={
        "category": "0401", "lon": 113.3910, "lat": 23.1405, "description": "12345：路口积水严重",
        "source": "hotline", "external_id": f"12345-{uuid.uuid4()}", "reported_at": ago(5)})
    assert ticket.status_code == 201 and ticket.get_json()["id"] == event_id and ticket.get_json()["merged"]
    assert one(db_url, "SELECT report_count FROM city_events WHERE id = %s", (event_id,)) == 2
    sources = one(db_url, "SELECT array_agg(source ORDER BY source) FROM event_reports WHERE event_id = %s",
                  (event_id,))
    assert sources == ["hotline", "sensor"]


def test_bad_readings_are_reported_and_good_ones_kept(client, tokens, db_url, sensor):
    response = post(client, tokens, sensor, {"readings": [
        {"at": ago(5), "value": 0.01}, {"at": "later", "value": 1}, {"at": ago(4)}, {"at": ago(3), "value": "x"},
        7, {"at": ago(2), "value": float("inf")}]})
    assert response.status_code == 207
    body = response.get_json()
    assert body["stored"] == 1
    assert {r["index"]: sorted(r["fields"]) for r in body["rejected"]} == {
        1: ["at"], 2: ["value"], 3: ["value"], 4: ["body"], 5: ["value"]}
    assert post(client, tokens, sensor, []).status_code == 400
    assert post(client, tokens, sensor, {"readings": "many"}).status_code == 400


def test_jurisdiction_and_roles_for_readings(client, tokens, db_url):
    shenzhen = make_sensor(db_url, 114.0550, 22.5430, "440304", kind="noise")
    assert post(client, tokens, shenzhen, [{"at": ago(1), "value": 50}]).status_code == 404
    assert post(client, tokens, shenzhen, [{"at": ago(1), "value": 50}], user="t_admin_gd").status_code == 201
    assert post(client, tokens, shenzhen, [{"at": ago(1), "value": 50}], user="insp_tianhe").status_code == 403
    listed = client.get("/api/sensors?kind=noise", headers=bearer(tokens, "manager_sz")).get_json()
    assert listed and all(s["district_adcode"].startswith("4403") for s in listed)
    assert client.get("/api/sensors?kind=radar", headers=bearer(tokens, "manager_sz")).status_code == 400


def test_operators_acknowledge_alerts_once(client, tokens, db_url, sensor):
    alert_id = post(client, tokens, sensor, [{"at": ago(1), "value": 1.0}]).get_json()["alerts"][0]
    op = bearer(tokens, "t_operator_gz")
    open_ids = {a["id"] for a in client.get("/api/alerts?open=true", headers=op).get_json()}
    assert alert_id in open_ids
    assert client.post(f"/api/alerts/{alert_id}/ack", headers=bearer(tokens, "insp_tianhe")).status_code == 403
    acked = client.post(f"/api/alerts/{alert_id}/ack", headers=bearer(tokens, "t_operator_gz"))
    assert acked.status_code == 200 and acked.get_json()["acknowledged_by"] == "t_operator_gz"
    again = client.post(f"/api/alerts/{alert_id}/ack", headers=bearer(tokens, "t_admin_gd"))
    assert again.status_code == 409 and "t_operator_gz" in again.get_json()["error"]
    open_ids = {a["id"] for a in client.get("/api/alerts?open=true", headers=op).get_json()}
    assert alert_id not in open_ids
    assert one(db_url, "SELECT count(*) FROM audit_log WHERE object_type = 'alerts' AND object_id = %s "
                       "AND action = 'update'", (str(alert_id),)) >= 1


def test_demo_sensors_have_a_day_of_readings(db_url):
    assert one(db_url, "SELECT count(*) FROM sensors WHERE code LIKE 'GZ-%%'") == 200
    assert one(db_url, "SELECT count(DISTINCT sensor_id) FROM sensor_readings "
                       "WHERE at > now() - interval '25 hours'") >= 190
    assert one(db_url, "SELECT count(*) FROM alerts WHERE event_id IS NOT NULL") >= 1


def test_the_live_feeder_writes_through_the_real_functions(db_url):
    import threading

    from cityops.live import run_feeder

    before = one(db_url, "SELECT count(*) FROM event_reports")
    stop = threading.Event()
    threading.Timer(3.0, stop.set).start()
    counts = run_feeder(db_url, stop, rate=600, tick_seconds=0.2, seed=3)
    assert counts["events"] + counts["merged"] >= 1
    written = counts["events"] + counts["merged"] + counts["alerts"]  # an alarm reports too
    assert one(db_url, "SELECT count(*) FROM event_reports") - before == written


def test_register_a_sensor_over_http(client, tokens, db_url):
    """Operators register sensors in their region: per-field errors, 403 outside, 409 for a taken code;
    a new sensor is offline until its first reading, then normal."""
    from geo.crs import wgs84_to_gcj02

    operator = bearer(tokens, "t_operator_gz")
    bad = client.post("/api/sensors", headers=operator, json={"code": "x", "kind": "volcano", "lon": 500})
    assert bad.status_code == 400
    assert set(bad.get_json()["fields"]) >= {"code", "kind", "name", "lon", "lat"}
    shenzhen = client.post("/api/sensors", headers=operator,
                           json={"code": "SZ-TEST-1", "kind": "noise", "name": "深圳测试", "lon": 114.06, "lat": 22.54})
    assert shenzhen.status_code == 403 and "lon" in shenzhen.get_json()["fields"]
    glon, glat = wgs84_to_gcj02(113.3245, 23.1365)
    made = client.post("/api/sensors", headers=operator,
                       json={"code": "GZ-TEST-REG-1", "kind": "water_level", "name": "天河测试积水点",
                             "lon": glon, "lat": glat, "crs": "gcj02", "threshold_high": 0.2})
    assert made.status_code == 201, made.get_json()
    sensor = made.get_json()
    assert sensor["district_adcode"] == "440106" and sensor["state"] == "offline"
    assert float(sensor["threshold_high"]) == 0.2 and sensor["unit"] == "m" and sensor["grid_code"]
    lon, lat = one(db_url, "SELECT array[ST_X(geom), ST_Y(geom)] FROM sensors WHERE code = 'GZ-TEST-REG-1'")
    assert abs(lon - 113.3245) < 1e-5 and abs(lat - 23.1365) < 1e-5  # stored in WGS 84
    again = client.post("/api/sensors", headers=operator,
                        json={"code": "GZ-TEST-REG-1", "kind": "noise", "name": "重复", "lon": 113.32, "lat": 23.13})
    assert again.status_code == 409
    read = client.post(f"/api/sensors/{sensor['id']}/readings", headers=operator,
                       json=[{"value": 0.01}])
    assert read.status_code == 201, read.get_json()
    assert one(db_url, "SELECT state FROM sensors WHERE code = 'GZ-TEST-REG-1'") == "normal"
    assert client.post("/api/sensors", headers=bearer(tokens, "manager_sz"), json={}).status_code == 403
