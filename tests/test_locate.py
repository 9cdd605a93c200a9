"""``/api/locate`` on known places, outside the area, and with bad input."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("lon, lat, district, city", [
    (113.3190, 23.1350, "440106", "440100"),  # 天河区, 广州
    (113.2640, 23.1290, "440104", "440100"),  # 越秀区, 广州
    (114.0540, 22.5410, "440304", "440300"),  # 福田区, 深圳
    (113.1150, 23.0150, "440604", "440600"),  # 禅城区, 佛山
    (116.7560, 23.3930, "440507", "440500"),  # 龙湖区, 汕头
])
def test_known_places(client, lon, lat, district, city):
    response = client.get(f"/api/locate?lon={lon}&lat={lat}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["province"] == {"adcode": "440000", "name": "广东省"}
    assert body["district"]["adcode"] == district
    assert body["city"]["adcode"] == city


def test_city_without_districts(client):
    body = client.get("/api/locate?lon=113.7500&lat=23.0200").get_json()  # 东莞
    assert body["district"]["adcode"] == "441900"
    assert body["city"]["name"] == "东莞市"


def test_outside_loaded_area_is_404_with_message(client):
    response = client.get("/api/locate?lon=116.3913&lat=39.9073")  # Beijing
    assert response.status_code == 404
    assert "不在已加载的行政区范围内" in response.get_json()["error"]


@pytest.mark.parametrize("query, fragment", [
    ("lon=abc&lat=23", "lon 不是数字"),
    ("lon=113", "缺少参数 lat"),
    ("lon=200&lat=23", "超出范围"),
    ("lon=113&lat=nan", "超出范围"),
])
def test_bad_input_is_400(client, query, fragment):
    response = client.get(f"/api/locate?{query}")
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]
