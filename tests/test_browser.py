"""The one-map page in real headless Chromium: layers drawn from our tiles, click → escaped popup."""

from __future__ import annotations

import time
from contextlib import closing

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from geo.db import connect
from tests.browser import idle, sign_in, wait_for_map

pytestmark = pytest.mark.browser
HOSTILE_NAME = '<img src=x onerror="window.__xss=1">测试餐饮店'
USCC = "91440106MA5XXX001W"  # valid check character
SPOT = (113.33012, 23.13541)  # 天河区


@pytest.fixture
def hostile_entity(db_url):
    """An entity whose name is an HTML injection attempt (committed: the server must see it)."""
    with closing(connect(db_url)) as conn:
        with conn, conn.cursor() as cur:
            cur.execute("""
                INSERT INTO entities (uscc, name, category, risk_class, address, district_adcode, geom)
                VALUES (%s, %s, 'catering', 'B', '广东省广州市天河区体育西路1号',
                        '440106', ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id""",
                        (USCC, HOSTILE_NAME, *SPOT))
            entity_id = cur.fetchone()[0]
        yield entity_id
        with conn, conn.cursor() as cur:
            cur.execute("DELETE FROM entities WHERE id = %s", (entity_id,))


def test_map_draws_boundaries_and_entities_from_tiles(live_url, driver):
    sign_in(driver, live_url, "t_admin_gd")
    driver.get(live_url + "/")
    wait_for_map(driver)
    idle(driver)
    drawn = driver.execute_script("""
        const map = window.ztMap;
        return {
          admin: map.queryRenderedFeatures({layers: ['admin_areas-fill']}).length,
          lines: map.queryRenderedFeatures({layers: ['admin_areas-city']}).length,
          entities: map.querySourceFeatures('entities', {sourceLayer: 'entities'})
                       .reduce((n, f) => n + (f.properties.count || 0), 0),
          webgl: !!map.painter && !!map.getCanvas().getContext('webgl2'),
        };""")
    assert drawn["admin"] > 50, drawn
    assert drawn["lines"] > 0, drawn
    assert drawn["entities"] > 1000, drawn
    legend = driver.find_element(By.CLASS_NAME, "zt-panel").get_attribute("textContent")
    assert "餐饮服务" in legend and "区县界" in legend


def test_public_map_shows_boundaries_but_no_entities(live_url, driver):
    driver.get(live_url + "/")
    wait_for_map(driver)
    idle(driver)
    state = driver.execute_script("""
        const map = window.ztMap;
        return {admin: map.queryRenderedFeatures({layers: ['admin_areas-fill']}).length,
                entitySource: !!map.getSource('entities')};""")
    assert state["admin"] > 50 and state["entitySource"] is False
    toggles = driver.find_element(By.CLASS_NAME, "zt-layer-toggle").text
    assert "行政区划" in toggles and "监管对象" not in toggles


def test_layer_switcher_hides_entities(live_url, driver):
    sign_in(driver, live_url, "t_admin_gd")
    driver.get(live_url + "/")
    wait_for_map(driver)
    toggle = driver.find_elements(By.CSS_SELECTOR, ".zt-layer-toggle input")[1]
    toggle.click()
    time.sleep(0.5)
    visibility = driver.execute_script(
        "return window.ztMap.getLayoutProperty('entities-points', 'visibility')")
    assert visibility == "none"


def test_click_on_entity_opens_an_escaped_popup(live_url, driver, hostile_entity):
    sign_in(driver, live_url, "insp_tianhe")
    driver.get(live_url + "/")
    wait_for_map(driver)
    driver.execute_script("window.ztMap.jumpTo({center: arguments[0], zoom: 17})", list(SPOT))
    idle(driver)
    point = driver.execute_script("""
        const map = window.ztMap;
        const hits = map.queryRenderedFeatures({layers: ['entities-points']})
                        .filter(f => f.properties.uscc === arguments[1]);
        if (!hits.length) return null;
        const p = map.project(arguments[0]);
        const r = map.getCanvas().getBoundingClientRect();
        return [p.x - r.width / 2, p.y - r.height / 2];""", list(SPOT), USCC)
    assert point is not None, "entity not drawn at street zoom"
    canvas = driver.find_element(By.CSS_SELECTOR, ".zt-map canvas")
    ActionChains(driver).move_to_element_with_offset(canvas, int(point[0]), int(point[1])).click().perform()
    time.sleep(0.5)
    popup = driver.find_element(By.CLASS_NAME, "zt-popup")
    assert HOSTILE_NAME in popup.text
    assert "91440106MA5XXX001W" in popup.text and "餐饮服务" in popup.text
    assert popup.find_elements(By.TAG_NAME, "img") == []
    assert driver.execute_script("return window.__xss === undefined")


def test_inspector_of_another_district_does_not_get_the_entity(live_url, driver, hostile_entity):
    sign_in(driver, live_url, "insp_yuexiu")
    driver.get(live_url + "/")
    wait_for_map(driver)
    driver.execute_script("window.ztMap.jumpTo({center: arguments[0], zoom: 17})", list(SPOT))
    idle(driver)
    hits = driver.execute_script("""
        return window.ztMap.querySourceFeatures('entities', {sourceLayer: 'entities'})
                   .filter(f => f.properties.uscc === arguments[0]).length;""", USCC)
    assert hits == 0
    driver.get(live_url + f"/entity/{hostile_entity}")
    time.sleep(1.5)
    assert "不存在或不在您的辖区" in driver.find_element(By.TAG_NAME, "body").text


def test_login_logout_round_trip(live_url, driver):
    sign_in(driver, live_url, "t_reviewer_gz")
    driver.get(live_url + "/")
    wait_for_map(driver)
    assert "t_reviewer_gz" in driver.find_element(By.ID, "zt-user-name").text
    driver.find_element(By.ID, "zt-logout").click()
    time.sleep(0.5)
    assert driver.current_url.endswith("/login")
    driver.get(live_url + "/admin/audit")
    assert "/login?next=/admin/audit" in driver.current_url
