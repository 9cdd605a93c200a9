"""The self-contained HTML map export: right rows for the caller, filters, aggregation, escaping,
validation, and a file that a real Chromium opens with no network."""

from __future__ import annotations

import json
import re
import time
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import folium
import pytest
from selenium.webdriver.common.by import By

from geo.db import connect
from layers import export_data as xd
from layers import export_spec as xs
from layers import folium_export as fx
from layers.registry import LAYERS
from tests.conftest import bearer
from tests.helpers import one

BBOX = (113.20, 23.05, 113.45, 23.25)  # central Guangzhou: 天河 440106 and 越秀 440104 both inside
BBOX_ARG = ",".join(map(str, BBOX))
IN_BBOX = "e.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"
HOSTILE_NAME = '</script><script>window.ztPwned=1</script><img src=x onerror="window.ztPwned=2">'
HOSTILE_ADDRESS = '"><svg onload="window.ztPwned=3">'


def export(client, tokens, username: str | None, query: str):
    headers = bearer(tokens, username) if username else {}
    return client.get(f"/export/map.html?{query}", headers=headers)


def summary_of(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="zt-export-summary">(.*?)</script>', page, re.S)
    assert match, "the export carries no summary"
    return json.loads(match.group(1))


def collections(page: str) -> list[dict]:
    """Every GeoJSON FeatureCollection folium embedded (``geo_json_<id>_add({...})``), in order."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(page, m.end())[0] for m in re.finditer(r"geo_json_\w+_add\(", page)]


def layer_summary(page: str, layer_id: str) -> dict:
    return next(item for item in summary_of(page)["layers"] if item["id"] == layer_id)


def entities_in_bbox(db_url: str, where: str = "true", params: tuple = ()) -> int:
    """Entities in BBOX counted as the owner (no row-level security), narrowed by ``where``."""
    return one(db_url, f"SELECT count(*) FROM entities e WHERE {IN_BBOX} AND {where}", (*BBOX, *params))


def popups(page: str) -> list[str]:
    return [f["properties"]["popup"] for c in collections(page) for f in c["features"]]


# ---------- rows: region, filters, aggregation ----------

def test_inspector_gets_only_their_district(client, tokens, db_url):
    page = export(client, tokens, "insp_tianhe", f"bbox={BBOX_ARG}&layers=entities").get_data(as_text=True)
    expected = entities_in_bbox(db_url, "e.district_adcode = %s", ("440106",))
    assert expected > 0
    entities = layer_summary(page, "entities")
    assert entities["mode"] == "features"
    assert entities["total"] == entities["drawn"] == expected
    assert sum(len(c["features"]) for c in collections(page)) == expected
    # a 越秀 entity inside the same box: in the admin's export, never in the 天河 inspector's
    yuexiu = one(db_url, f"SELECT uscc FROM entities e WHERE {IN_BBOX} AND district_adcode = '440104' LIMIT 1",
                 BBOX)
    assert yuexiu and yuexiu not in page
    admin_page = export(client, tokens, "t_admin_gd", f"bbox={BBOX_ARG}&layers=entities").get_data(as_text=True)
    assert yuexiu in admin_page
    assert layer_summary(admin_page, "entities")["total"] == entities_in_bbox(db_url)
    assert "天河区（440106）" in page


def test_other_inspector_sees_their_own_count(client, tokens, db_url):
    page = export(client, tokens, "insp_yuexiu", f"bbox={BBOX_ARG}&layers=entities").get_data(as_text=True)
    expected = entities_in_bbox(db_url, "e.district_adcode = %s", ("440104",))
    assert expected > 0 and layer_summary(page, "entities")["total"] == expected


def test_category_filter_is_honoured(client, tokens, db_url):
    page = export(client, tokens, "t_admin_gd",
                  f"bbox={BBOX_ARG}&layers=entities&entities.category=food").get_data(as_text=True)
    features = collections(page)[0]["features"]
    expected = entities_in_bbox(db_url, "e.category = 'food'")
    assert 0 < expected < entities_in_bbox(db_url)
    assert len(features) == expected and {f["properties"]["v"] for f in features} == {"food"}
    assert layer_summary(page, "entities")["filters"] == {"category": ["food"]}
    assert "类别 = 食品经营" in page


def test_view_from_map_parameter_matches_database(client, tokens, db_url):
    view = xs.view_from_map("12/113.33/23.13")
    page = export(client, tokens, "t_admin_gd", "map=12/113.33/23.13&layers=entities").get_data(as_text=True)
    expected = one(db_url, "SELECT count(*) FROM entities WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                   (view.west, view.south, view.east, view.north))
    assert expected > 0 and layer_summary(page, "entities")["total"] == expected


def test_aggregates_over_the_cap(client, tokens, db_url, monkeypatch):
    for module in (fx, xd):  # the cap decides in export_data and is quoted by the legend
        monkeypatch.setattr(module, "POINT_CAP", 20)
    page = export(client, tokens, "t_admin_gd", f"bbox={BBOX_ARG}&layers=admin_areas,entities").get_data(as_text=True)
    expected = entities_in_bbox(db_url)
    entities = layer_summary(page, "entities")
    assert entities["mode"] == "grid" and entities["total"] == expected
    cells = collections(page)[1]["features"]
    assert 1 < len(cells) < expected
    assert sum(c["properties"]["count"] for c in cells) == expected
    assert "已按网格聚合" in page and "超过 20 个的上限" in page
    assert layer_summary(page, "admin_areas")["mode"] == "features"


def test_polygons_over_their_cap_are_cut_and_said_so(client, tokens, monkeypatch):
    for module in (fx, xd):
        monkeypatch.setattr(module, "POLYGON_CAP", 3)
    page = export(client, tokens, "t_admin_gd", f"bbox={BBOX_ARG}&layers=admin_areas").get_data(as_text=True)
    areas = layer_summary(page, "admin_areas")
    assert areas["mode"] == "truncated" and areas["drawn"] == 3
    assert "仅显示前 3 个" in page


# ---------- escaping ----------

@pytest.fixture
def hostile_entity(db_url):
    """An entity in 天河 whose name and address are markup, removed afterwards."""
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("""INSERT INTO entities (uscc, name, category, risk_class, address, district_adcode, geom)
                       VALUES ('91440106ZTXSS00001', %s, 'food', 'D', %s, '440106',
                               ST_SetSRID(ST_MakePoint(113.3300, 23.1350), 4326)) RETURNING id""",
                    (HOSTILE_NAME, HOSTILE_ADDRESS))
        entity_id = cur.fetchone()[0]
    yield entity_id
    with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
        cur.execute("DELETE FROM entities WHERE id = %s", (entity_id,))


def test_hostile_text_is_escaped_in_popups(client, tokens, hostile_entity):
    page = export(client, tokens, "insp_tianhe", f"bbox={BBOX_ARG}&layers=entities").get_data(as_text=True)
    hostile = [p for p in popups(page) if "ztPwned" in p]
    assert len(hostile) == 1
    assert "<img" not in hostile[0] and "<script" not in hostile[0] and "<svg" not in hostile[0]
    assert "&lt;img src=x onerror=&quot;window.ztPwned=2&quot;&gt;" in hostile[0]
    assert "&quot;&gt;&lt;svg onload=" in hostile[0]
    assert "</script><script>window.ztPwned" not in page  # nor can it close the data's <script>


# ---------- validation and access ----------

@pytest.mark.parametrize("query", [
    "map=abc&layers=admin_areas", "map=12/113.3&layers=admin_areas", "map=30/113.3/23.1&layers=admin_areas",
    "map=12/200/23.1&layers=admin_areas", "map=nan/113.3/23.1&layers=admin_areas",
    "bbox=1,2,3&layers=admin_areas", "bbox=113.4,23.0,113.2,23.2&layers=admin_areas",
    "bbox=113,23,114,inf&layers=admin_areas", "layers=admin_areas",
    f"bbox={BBOX_ARG}&layers=nope", f"bbox={BBOX_ARG}&layers=",
    f"bbox={BBOX_ARG}&layers=entities&entities.category=bogus",
    f"bbox={BBOX_ARG}&layers=entities&entities.colour=red", f"bbox={BBOX_ARG}&layers=entities&nope.category=food",
    f"bbox={BBOX_ARG}&layers=entities&tasks.due_from=2026-13-01", f"bbox={BBOX_ARG}&layers=entities&opacity=entities:2",
    f"bbox={BBOX_ARG}&layers=entities&opacity=entities", f"bbox={BBOX_ARG}&layers=entities&lang=fr",
    f"bbox={BBOX_ARG}&layers=entities&colour=red", f"bbox={BBOX_ARG}&layers=entities&layers=admin_areas",
])
def test_bad_parameters_are_400_with_a_bilingual_message(client, tokens, query):
    response = export(client, tokens, "t_admin_gd", query)
    assert response.status_code == 400, query
    message = response.get_json()["error"]
    assert re.search(r"[\u4e00-\u9fff]", message) and re.search(r"/ [a-z]", message), message


def test_anonymous_may_export_boundaries_but_not_entities(client, tokens):
    assert export(client, tokens, None, f"bbox={BBOX_ARG}&layers=admin_areas,entities").status_code == 401
    response = export(client, tokens, None, f"bbox={BBOX_ARG}")  # default: the layers the public may see
    assert response.status_code == 200
    assert [item["id"] for item in summary_of(response.get_data(as_text=True))["layers"]] == ["admin_areas"]


def test_layer_outside_the_role_is_403(client, tokens, monkeypatch):
    monkeypatch.setitem(LAYERS, "cases", replace(LAYERS["cases"], roles=("legal_reviewer",)))
    response = export(client, tokens, "insp_tianhe", f"bbox={BBOX_ARG}&layers=cases")
    assert response.status_code == 403 and response.get_json()["error"]
    assert export(client, tokens, "t_reviewer_gz", f"bbox={BBOX_ARG}&layers=cases").status_code == 200


def test_download_headers(client, tokens):
    response = export(client, tokens, "insp_tianhe", f"bbox={BBOX_ARG}&layers=admin_areas")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "no-store" in response.headers["Cache-Control"]
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=\"zhengtu-export-")
    name = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    match = re.fullmatch(r"政图-导出-(\d{8}-\d{4})\.html", name)
    assert match, name
    stamp = datetime.strptime(match.group(1), "%Y%m%d-%H%M").replace(tzinfo=xs.BEIJING)
    assert abs(datetime.now(xs.BEIJING) - stamp) < timedelta(minutes=2)
    assert f"导出时间：{stamp:%Y-%m-%d %H:%M}" in response.get_data(as_text=True)


# ---------- self-contained ----------

def test_nothing_is_loaded_from_the_network(client, tokens):
    page = export(client, tokens, "t_admin_gd", f"bbox={BBOX_ARG}&layers=admin_areas,entities").get_data(as_text=True)
    assert not re.search(r"<script\b[^>]*\bsrc\s*=", page, re.I)  # every script inline
    assert not re.search(r"<link\b[^>]*\bhref\s*=", page, re.I)  # every stylesheet inline
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
    assert "@import" not in page and "@font-face" not in page
    assert not re.search(r"cdn\.|cdnjs|jsdelivr|code\.jquery|bootstrapcdn|fontawesome", page, re.I)
    assert "L.tileLayer" not in page  # no base map unless configured: boundaries are the base
    assert "Leaflet 1.9.3" in page


def test_vendored_leaflet_is_the_version_folium_expects():
    leaflet_url = dict(folium.Map.default_js)["leaflet"]
    assert f"leaflet@{xs.LEAFLET_VERSION}/" in leaflet_url
    assert f"Leaflet {xs.LEAFLET_VERSION}," in fx.leaflet_js()[:200]
    assert "BSD 2-Clause" in (xs.VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "url(images/" not in fx.leaflet_css() and "data:image/png;base64," in fx.leaflet_css()


def test_base_map_only_when_the_caller_configures_one():
    spec = xs.ExportSpec(xs.view_from_bbox(BBOX_ARG), (xs.LayerSpec(LAYERS["admin_areas"]),))
    empty = xs.LayerData(spec.layers[0], {"type": "FeatureCollection", "features": []}, 0, "features")
    now = datetime.now(xs.BEIJING)
    assert "L.tileLayer" not in fx.build_map(spec, [empty], now).get_root().render()
    basemap = xs.Basemap("https://tiles.example/{z}/{x}/{y}.png", "测试底图")
    page = fx.build_map(spec, [empty], now, basemap=basemap).get_root().render()
    assert "L.tileLayer" in page and "底图：测试底图（需联网）" in page


def test_view_from_map_assumes_a_1600_by_1000_screen():
    view = xs.view_from_map("12/113.33/23.13")
    assert view.east - view.west == pytest.approx(1600 / (512 * 2 ** 12) * 360)
    assert view.west < 113.33 < view.east and view.south < 23.13 < view.north
    assert xs.view_from_bbox(f"{view.west},{view.south},{view.east},{view.north}").zoom == pytest.approx(12, abs=1e-6)
    whole = xs.view_from_map("0/0/0")
    assert (whole.west, whole.east, whole.north) == (-180, 180, xs.MAX_LAT)


def test_count_classes_spread_over_the_view():
    assert fx.count_classes(1) == (1,)
    assert fx.count_classes(8606) == (1, 5, 50, 200, 1000)
    assert all(a < b for a, b in zip(fx.count_classes(40), fx.count_classes(40)[1:], strict=False))


# ---------- a real browser, offline ----------

def open_offline(driver, tmp_path: Path, page: str) -> None:
    path = tmp_path / "export.html"
    path.write_text(page, encoding="utf-8")
    driver.get(path.as_uri())


@pytest.mark.browser
def test_export_opens_offline_in_chromium(client, tokens, driver, tmp_path):
    response = export(client, tokens, "t_admin_gd", f"bbox={BBOX_ARG}&layers=admin_areas,entities")
    page = response.get_data(as_text=True)
    drawn = sum(item["drawn"] for item in summary_of(page)["layers"])
    open_offline(driver, tmp_path, page)
    count = 0
    for _ in range(50):
        count = driver.execute_script("return document.querySelectorAll('.leaflet-interactive').length")
        if count == drawn:
            break
        time.sleep(0.2)
    assert count == drawn > 100
    legend = driver.find_element(By.ID, "zt-export-legend").text
    assert "行政区划" in legend and "监管对象" in legend and "视图内" in legend
    assert "导出时间" in driver.find_element(By.ID, "zt-export-title").text
    fetched = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in fetched if not url.startswith(("data:", "file:"))] == []
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.mark.browser
def test_hostile_popup_renders_as_text(client, tokens, driver, tmp_path, hostile_entity):
    page = export(client, tokens, "insp_tianhe", f"bbox={BBOX_ARG}&layers=entities").get_data(as_text=True)
    open_offline(driver, tmp_path, page)
    opened = driver.execute_script("""
        const map = Object.values(window).find(v => v instanceof L.Map);
        let found = false;
        map.eachLayer(l => {
          if (!found && l.feature && String(l.feature.properties.popup).includes('ztPwned')) {
            l.openPopup(); found = true;
          }
        });
        return found;""")
    assert opened
    time.sleep(0.5)
    content = driver.find_element(By.CSS_SELECTOR, ".leaflet-popup-content")
    assert HOSTILE_NAME in content.text and HOSTILE_ADDRESS in content.text
    assert content.find_elements(By.CSS_SELECTOR, "img, svg, script") == []
    assert driver.execute_script("return window.ztPwned === undefined")
