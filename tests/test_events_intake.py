"""Event intake over HTTP: validation per field, jurisdiction, batches, idempotency, linking, merging."""

from __future__ import annotations

import uuid

import pytest

from cityops import events
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.conftest import bearer
from tests.helpers import one

TIANHE = (113.3300, 23.1350)
SHENZHEN = (114.0550, 22.5430)
BEIJING = (116.4000, 39.9000)
# Far from the demo events' times (the last ten days), so only this file's reports can link.
PAST = "2026-03-02T10:00:00+08:00"


def report(**over) -> dict:
    body = {"category": "0101", "lon": TIANHE[0], "lat": TIANHE[1], "description": "路边暴露垃圾",
            "source": "hotline", "reported_at": PAST}
    body.update(over)
    return body


def spot(n: int) -> tuple[float, float]:
    """A Tianhe point ~1 km apart per n, so tests do not link each other's reports."""
    return TIANHE[0] + 0.01 * (n % 5), TIANHE[1] + 0.01 * (n // 5)


def count_events(db_url: str) -> int:
    return one(db_url, "SELECT count(*) FROM city_events")


def post(client, tokens, body, user="t_operator_gz"):
    return client.post("/api/events", json=body, headers=bearer(tokens, user))


def test_a_report_is_stored_with_district_grid_and_first_step(client, tokens, db_url):
    lon, lat = spot(1)
    response = post(client, tokens, report(lon=lon, lat=lat, external_id=f"T-{uuid.uuid4()}"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "信息收集" and body["district_adcode"] == "440106"
    assert body["grid_code"].startswith("440106") and len(body["grid_code"]) == 14
    assert body["deadline"] is None and body["merged"] is False  # the clock starts at 立案
    assert one(db_url, "SELECT count(*) FROM event_reports WHERE event_id = %s", (body["id"],)) == 1
    assert one(db_url, "SELECT to_status FROM event_transitions WHERE event_id = %s", (body["id"],)) == "信息收集"
    inside = one(db_url, "SELECT ST_Contains(g.geom, e.geom) FROM city_events e JOIN unit_grids g "
                         "ON g.code = e.grid_code WHERE e.id = %s", (body["id"],))
    assert inside is True


@pytest.mark.parametrize("change, field, fragment", [
    ({"category": None}, "category", "缺少事件类别"),
    ({"category": "9999"}, "category", "未知事件类别"),
    ({"category": "01"}, "category", "请选择小类"),
    ({"lon": None}, "lon", "缺少 lon"),
    ({"lat": "north"}, "lat", "不是数字"),
    ({"lon": 181}, "lon", "超出范围"),
    ({"lat": float("nan")}, "lat", "超出范围"),
    ({"lon": True}, "lon", "应为数字"),
    ({"lon": BEIJING[0], "lat": BEIJING[1]}, "lon", "不在已加载的行政区"),
    ({"crs": "utm"}, "crs", "crs 应为"),
    ({"description": "  "}, "description", "缺少事件描述"),
    ({"description": "长" * 2001}, "description", "超过"),
    ({"source": "twitter"}, "source", "来源应为"),
    ({"source": None}, "source", "缺少来源"),
    ({"reported_at": "yesterday"}, "reported_at", "不是 ISO 8601"),
    ({"reported_at": "2099-01-01T00:00:00+08:00"}, "reported_at", "晚于当前时间"),
    ({"reported_at": "2020-01-01T00:00:00+08:00"}, "reported_at", "早于一年前"),
    ({"external_id": 12}, "external_id", "external_id 应为"),
])
def test_each_bad_field_has_its_message_and_nothing_is_stored(client, tokens, db_url, change, field, fragment):
    before = count_events(db_url)
    response = post(client, tokens, report(**change))
    assert response.status_code == 400
    body = response.get_json()
    assert fragment in body["fields"][field], body
    assert count_events(db_url) == before


def test_several_bad_fields_are_all_named(client, tokens):
    body = post(client, tokens, {"category": "x", "lon": "a", "source": "fax"}).get_json()
    assert {"category", "lon", "lat", "description", "source"} <= set(body["fields"])


def test_body_must_be_json(client, tokens):
    response = client.post("/api/events", data="category=0101", headers=bearer(tokens, "t_operator_gz"))
    assert response.status_code == 400


@pytest.mark.parametrize("user, point", [
    ("insp_yuexiu", SHENZHEN), ("insp_yuexiu", TIANHE), ("t_operator_gz", SHENZHEN),
])
def test_a_point_outside_the_callers_jurisdiction_is_403(client, tokens, db_url, user, point):
    before = count_events(db_url)
    response = post(client, tokens, report(lon=point[0], lat=point[1]), user=user)
    assert response.status_code == 403
    assert "不在您的辖区" in response.get_json()["fields"]["lon"]
    assert count_events(db_url) == before


def test_roles_that_may_not_report(client, tokens):
    assert post(client, tokens, report(), user="t_reviewer_gz").status_code == 403
    assert post(client, tokens, report(), user="manager_sz").status_code == 403
    assert client.post("/api/events", json=report()).status_code == 401


@pytest.mark.parametrize("system, convert", [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_gcj02_and_bd09_are_converted_on_the_way_in(client, tokens, db_url, system, convert):
    lon, lat = spot(7 if system == "gcj02" else 8)
    x, y = convert(lon, lat)
    response = post(client, tokens, report(lon=float(x), lat=float(y), crs=system, category="0603"))
    assert response.status_code == 201
    stored = one(db_url, "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) "
                         "FROM city_events WHERE id = %s", (lon, lat, response.get_json()["id"]))
    assert stored < 0.5  # metres: the shifted input landed back on the true point


def test_same_external_id_twice_is_the_same_event(client, tokens, db_url):
    lon, lat = spot(2)
    key = f"12345-{uuid.uuid4()}"
    first = post(client, tokens, report(lon=lon, lat=lat, external_id=key, category="0202"))
    again = post(client, tokens, report(lon=lon + 0.02, lat=lat, external_id=key, category="0202"))
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["replayed"] is True
    assert one(db_url, "SELECT count(*) FROM event_reports WHERE external_id = %s", (key,)) == 1
    assert one(db_url, "SELECT report_count FROM city_events WHERE id = %s", (first.get_json()["id"],)) == 1


def test_an_external_id_of_another_jurisdiction_is_409(client, tokens):
    key = f"SZ-{uuid.uuid4()}"
    assert post(client, tokens, report(lon=SHENZHEN[0], lat=SHENZHEN[1], external_id=key),
                user="t_admin_gd").status_code == 201
    response = post(client, tokens, report(lon=spot(3)[0], lat=spot(3)[1], external_id=key))
    assert response.status_code == 409


def test_a_repeated_report_is_linked_not_counted_twice(client, tokens, db_url):
    lon, lat = spot(4)
    first = post(client, tokens, report(lon=lon, lat=lat, category="0502")).get_json()
    # 30 m away, 20 minutes later, same channel and category: the same incident
    second = post(client, tokens, report(lon=lon + 0.0003, lat=lat, category="0502",
                                         reported_at="2026-03-02T10:20:00+08:00")).get_json()
    assert second["id"] == first["id"] and second["merged"] is True and second["report_count"] == 2
    # another category at the same place is another event; so is the same one 200 m away
    other = post(client, tokens, report(lon=lon, lat=lat, category="0503")).get_json()
    far = post(client, tokens, report(lon=lon + 0.002, lat=lat, category="0502")).get_json()
    # and the same place two hours later
    later = post(client, tokens, report(lon=lon, lat=lat, category="0502",
                                        reported_at="2026-03-02T12:30:00+08:00")).get_json()
    assert len({first["id"], other["id"], far["id"], later["id"]}) == 4
    assert one(db_url, "SELECT count(*) FROM event_reports WHERE event_id = %s", (first["id"],)) == 2


def test_reports_from_different_channels_merge_into_one_event_with_one_deadline(client, tokens, db_url):
    lon, lat = spot(5)
    hotline = post(client, tokens, report(lon=lon, lat=lat, category="0401", source="hotline",
                                          description="隧道积水", external_id=f"HL-{uuid.uuid4()}")).get_json()
    # a grid worker 120 m away 40 minutes later: beyond the same-channel rule, within the cross-channel one
    grid = post(client, tokens, report(lon=lon + 0.0012, lat=lat, category="0401", source="grid",
                                       description="网格员：积水约20厘米",
                                       reported_at="2026-03-02T10:40:00+08:00"), user="insp_tianhe").get_json()
    assert grid["id"] == hotline["id"] and grid["merged"] is True
    detail = client.get(f"/api/events/{hotline['id']}", headers=bearer(tokens, "t_operator_gz")).get_json()
    assert {r["source"] for r in detail["reports"]} == {"hotline", "grid"}
    assert detail["report_count"] == 2
    # the same channel 120 m away would have been a new event
    near = post(client, tokens, report(lon=lon - 0.0012, lat=lat, category="0401", source="hotline",
                                       description="另一处积水")).get_json()
    assert near["id"] != hotline["id"]


def test_a_batch_keeps_good_items_and_reports_each_bad_one(client, tokens, db_url):
    before = count_events(db_url)
    lon, lat = spot(6)
    items = [report(lon=lon, lat=lat, category="0701"), report(category="nope"),
             report(lon=SHENZHEN[0], lat=SHENZHEN[1]), "not an object",
             report(lon=lon + 0.005, lat=lat, category="0702")]
    response = post(client, tokens, items)
    assert response.status_code == 207
    body = response.get_json()
    assert body["stored"] == 2 and body["failed"] == 3
    results = body["results"]
    assert [r["ok"] for r in results] == [True, False, False, False, True]
    assert "category" in results[1]["fields"] and results[1]["status_code"] == 400
    assert results[2]["status_code"] == 403 and "lon" in results[2]["fields"]
    assert "body" in results[3]["fields"]
    assert count_events(db_url) == before + 2
    all_good = post(client, tokens, [report(lon=lon + 0.01, lat=lat, category="0704")])
    assert all_good.status_code == 201


def test_parse_report_without_a_database():
    parsed = events.parse_report(report(reported_at="2026-03-02T10:00:00"))
    assert parsed.reported_at.utcoffset().total_seconds() == 8 * 3600  # naive = Asia/Shanghai
    with pytest.raises(events.IntakeError) as caught:
        events.parse_report([])
    assert "body" in caught.value.fields


def test_categories_list_the_classification(client, tokens):
    rows = client.get("/api/events/categories", headers=bearer(tokens, "manager_sz")).get_json()
    by_code = {r["code"]: r for r in rows}
    assert by_code["0101"]["name"] == "暴露垃圾" and by_code["0101"]["parent"] == "01"
    assert by_code["0101"]["time_limit_hours"] > 0 and by_code["01"]["time_limit_hours"] is None
    assert by_code["0601"]["kind"] == "部件" and by_code["0501"]["name"] == "无照经营游商"
