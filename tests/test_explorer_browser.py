"""The map explorer in real Chromium: filters, a drawn polygon selection, measuring, restored URLs."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser import idle, sign_in, wait_for_map
from tests.helpers import one

pytestmark = pytest.mark.browser
CENTRE = (113.3300, 23.1350)


def open_map(driver, live_url, query=""):
    sign_in(driver, live_url, "t_admin_gd")
    driver.get(live_url + "/" + query)
    wait_for_map(driver)
    idle(driver)


def rendered(driver, style_id):
    return driver.execute_script(
        "return window.ztMap.queryRenderedFeatures({layers: [arguments[0]]})"
        ".map(f => f.properties)", style_id)


def test_restored_url_sets_view_layers_and_filters(live_url, driver):
    open_map(driver, live_url, "?map=13/113.33/23.135&layers=admin_areas,entities&entities.category=food")
    zoom, centre = driver.execute_script(
        "const m = window.ztMap; return [m.getZoom(), m.getCenter().toArray()]")
    assert abs(zoom - 13) < 0.01 and abs(centre[0] - 113.33) < 1e-4 and abs(centre[1] - 23.135) < 1e-4
    points = rendered(driver, "entities-points")
    assert points and {p["category"] for p in points} == {"food"}
    boxes = driver.find_elements(By.CSS_SELECTOR, ".zt-layer-toggle input")
    assert [b.is_selected() for b in boxes[:3]] == [True, True, False]
    # the URL keeps following the map
    driver.execute_script("window.ztMap.jumpTo({zoom: 13.5})")
    time.sleep(0.5)
    query = parse_qs(urlparse(driver.current_url).query)
    assert query["map"][0].startswith("13.50/") and query["entities.category"] == ["food"]


def test_filter_from_the_panel_redraws_only_matching(live_url, driver):
    open_map(driver, live_url, "?map=13/113.33/23.135&layers=admin_areas,entities")
    assert len({p["category"] for p in rendered(driver, "entities-points")}) > 1
    driver.find_elements(By.CSS_SELECTOR, ".zt-layer-more > summary")[1].click()
    driver.find_element(By.CSS_SELECTOR, 'button[id*="zt-filter"][id*="category"]').click()
    time.sleep(0.5)
    driver.find_element(By.XPATH, "//*[@role='option'][contains(., '餐饮服务')]").click()
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    time.sleep(1)
    idle(driver)
    assert {p["category"] for p in rendered(driver, "entities-points")} == {"catering"}
    assert "entities.category=catering" in driver.current_url
    tiles = driver.execute_script("return window.ztMap.getSource('entities').tiles[0]")
    assert tiles.endswith("?category=catering")


def test_polygon_selection_counts_what_is_inside(live_url, driver, db_url):
    open_map(driver, live_url, f"?map=11.5/{CENTRE[0]}/{CENTRE[1]}&layers=admin_areas,entities")
    driver.find_element(By.ID, "zt-tool-polygon").click()
    canvas = driver.find_element(By.CSS_SELECTOR, ".zt-map canvas")
    chain = ActionChains(driver)
    for dx, dy in ((-150, -120), (150, -120), (150, 120)):
        chain.move_to_element_with_offset(canvas, dx, dy).click().pause(0.3)
    chain.move_to_element_with_offset(canvas, -150, 120).double_click().perform()
    time.sleep(1.5)
    polygon = driver.execute_script("return window.ztLastSelection")
    assert polygon and polygon["type"] == "Polygon" and len(polygon["coordinates"][0]) == 5
    total = driver.find_element(By.ID, "zt-selection-total").text
    expected = one(db_url, "SELECT count(*) FROM entities WHERE ST_Intersects(geom, "
                           "ST_GeomFromGeoJSON(%s))", (json.dumps(polygon),))
    assert expected > 0 and f"共 {expected} 个" in total


def test_measure_two_points(live_url, driver):
    open_map(driver, live_url, f"?map=14/{CENTRE[0]}/{CENTRE[1]}&layers=admin_areas")
    driver.find_element(By.ID, "zt-tool-measure").click()
    canvas = driver.find_element(By.CSS_SELECTOR, ".zt-map canvas")
    ActionChains(driver).move_to_element_with_offset(canvas, -200, 0).click().pause(0.3) \
        .move_to_element_with_offset(canvas, 200, 0).click().perform()
    time.sleep(0.5)
    measured = driver.execute_script("return window.ztMeasured")
    metres_per_px = driver.execute_script(
        "const m = window.ztMap; const a = m.unproject([0, 300]), b = m.unproject([400, 300]);"
        "return (b.lng - a.lng) * 111320 * Math.cos(a.lat * Math.PI / 180) / 400")
    assert measured == pytest.approx(400 * metres_per_px, rel=0.05)
    assert "测距" in driver.find_element(By.ID, "zt-tool-status").text


def test_search_flies_to_the_entity(live_url, driver, db_url):
    open_map(driver, live_url)
    name = one(db_url, "SELECT name FROM entities WHERE district_adcode = '440106' ORDER BY id LIMIT 1")
    box = driver.find_element(By.ID, "zt-search")
    box.send_keys(name)
    box.send_keys(Keys.ENTER)
    time.sleep(1.5)
    hit = driver.find_element(By.CSS_SELECTOR, ".zt-hit")
    assert name in hit.text
    hit.click()
    time.sleep(3)
    assert driver.execute_script("return window.ztMap.getZoom()") > 15


def test_gcj02_base_map_shifts_every_overlay(live_url, driver, db_url):
    from geo.crs import wgs84_to_gcj02

    entity = one(db_url, "SELECT min(id) FROM entities WHERE district_adcode = '440106'")
    lon, lat = (one(db_url, f"SELECT ST_{c}(geom) FROM entities WHERE id = %s", (entity,)) for c in "XY")
    glon, glat = wgs84_to_gcj02(lon, lat)
    open_map(driver, live_url, f"?map=16/{glon}/{glat}&layers=admin_areas,entities&basemap=amap")
    time.sleep(1)
    idle(driver)
    assert "crs=gcj02" in driver.execute_script("return window.ztMap.getSource('entities').tiles[0]")
    drawn = driver.execute_script(
        "return window.ztMap.queryRenderedFeatures({layers: ['entities-points']})"
        ".filter(f => f.id === arguments[0]).map(f => f.geometry.coordinates)", entity)
    assert drawn, "entity not drawn over the GCJ-02 base map"
    assert abs(drawn[0][0] - glon) < 2e-5 and abs(drawn[0][1] - glat) < 2e-5
    assert "basemap=amap" in driver.current_url


def test_grid_choropleth_colours_the_unit_grid_by_class(live_url, driver, db_url):
    lon, lat = one(db_url, "SELECT array[ST_X(geom), ST_Y(geom)] FROM entities "
                           "WHERE district_adcode = '440106' AND grid_code IS NOT NULL ORDER BY id LIMIT 1")
    open_map(driver, live_url, f"?map=16/{lon:.5f}/{lat:.5f}&layers=admin_areas")
    driver.find_element(By.ID, "zt-choropleth").click()
    time.sleep(0.5)
    driver.find_element(By.XPATH, "//*[@role='option'][contains(., '监管对象数量（单元网格）')]").click()
    deadline = time.time() + 30
    while time.time() < deadline and "13 级" not in driver.find_element(By.ID, "zt-choropleth-legend").text:
        time.sleep(0.3)
    assert "个网格有数据" in driver.find_element(By.ID, "zt-choropleth-legend").text
    idle(driver)
    # the grid layer is switched on for the classes, and its colour is a step over the tiles' own counts
    paint = driver.execute_script("return window.ztMap.getPaintProperty('unit_grids-fill', 'fill-color')")
    assert paint[0] == "step" and paint[1] == ["coalesce", ["get", "entities"], 0]
    cells = rendered(driver, "unit_grids-fill")
    assert cells and any(c["entities"] > 0 for c in cells)
    some = next(c for c in cells if c["entities"] > 0)
    assert some["entities"] == one(db_url, "SELECT count(*) FROM entities WHERE grid_code = %s", (some["code"],))
    # back to no indicator: the grid is hidden again (it was not switched on in the layer tree)
    driver.find_element(By.CSS_SELECTOR, "#zt-choropleth .dash-dropdown-clear").click()
    time.sleep(1)
    assert driver.execute_script(
        "return window.ztMap.getLayoutProperty('unit_grids-fill', 'visibility')") == "none"
