"""The KPI page in real Chromium: the numbers match the API; a click on a district drills down."""

from __future__ import annotations

import json
import re
import time

import pytest
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By

from kpi.export import fmt
from tests.browser import sign_in
from tests.conftest import BY_ROLE, bearer
from tests.helpers import one, pages_request

PERIOD = "from=2026-11-01&to=2026-11-30"


def wait_for(driver, script: str, timeout: float = 60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("timed out waiting for: " + script)


MAP_READY = """
const gd = document.querySelector('#zt-kpi-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
return !!(sub && sub.map && sub.map.loaded() && sub.map.queryRenderedFeatures().length > 0);
"""


@pytest.mark.browser
def test_click_a_district_drills_down(driver, live_url, client, tokens, db_url):
    api = client.get(f"/api/kpi/task_on_time?region=4401&{PERIOD}", headers=bearer(tokens, "t_admin_gd")).get_json()
    sign_in(driver, live_url, "t_admin_gd")
    driver.get(f"{live_url}/kpi?kpi=task_on_time&region=4401&{PERIOD}")
    wait_for(driver, MAP_READY)
    shown = driver.find_element(By.ID, "zt-kpi-value").text
    assert shown == fmt(api["value"], "%")  # the page and the API agree
    assert driver.find_element(By.ID, "zt-kpi-region-name").text == "广州市"
    ranked = driver.find_elements(By.CSS_SELECTOR, "#zt-kpi-ranking tbody tr")
    assert len(ranked) == len(api["children"])
    lon, lat = (one(db_url, """SELECT json_build_array(ST_X(p), ST_Y(p)) FROM (SELECT ST_PointOnSurface(geom) p
                                         FROM admin_areas WHERE level = 'district' AND adcode = '440106') s"""))
    driver.execute_script("document.querySelector('#zt-kpi-map').scrollIntoView({block: 'center'})")
    time.sleep(0.5)
    x, y = driver.execute_script("""
        const gd = document.querySelector('#zt-kpi-map .js-plotly-plot');
        const p = gd._fullLayout.map._subplot.map.project([arguments[0], arguments[1]]);
        const box = gd.querySelector('.maplibregl-canvas').getBoundingClientRect();
        return [Math.round(box.left + p.x), Math.round(box.top + p.y)];""", lon, lat)
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(x, y).pause(0.3).click()
    actions.perform()  # a real click at the district's inner point, in viewport coordinates
    wait_for(driver, "return location.search.includes('region=440106')")
    wait_for(driver, "const n = document.querySelector('#zt-kpi-region-name'); return n && n.textContent === '天河区'")
    crumbs = driver.find_element(By.CSS_SELECTOR, ".zt-kpi-crumbs").text
    assert "广东省" in crumbs and "广州市" in crumbs  # the way back up
    district = client.get(f"/api/kpi/task_on_time?region=440106&{PERIOD}",
                          headers=bearer(tokens, "t_admin_gd")).get_json()
    assert driver.find_element(By.ID, "zt-kpi-value").text == fmt(district["value"], "%")
    assert "单元网格" in driver.find_element(By.CSS_SELECTOR, ".zt-kpi-panel h3").text
    # the records behind the figure open the entity (with its tasks, cases and evidence)
    links = driver.find_elements(By.CSS_SELECTOR, "#zt-kpi-records a")
    assert all(re.search(r"/(entity/\d+|case/\d+|ops/desk\?event=\d+)$", a.get_attribute("href")) for a in links)


@pytest.mark.browser
def test_filters_change_the_url(driver, live_url):
    sign_in(driver, live_url, "t_admin_gd")
    driver.get(f"{live_url}/kpi?kpi=task_on_time&region=44&{PERIOD}")
    wait_for(driver, "return !!document.querySelector('#zt-kpi-value')")
    driver.find_element(By.CSS_SELECTOR, "#zt-kpi-card-checkin_on_site").click()
    wait_for(driver, "return location.search.includes('kpi=checkin_on_site')")
    wait_for(driver, "const d = document.querySelector('#zt-kpi-definition summary');"
                     " return d && d.textContent.includes('现场签到率')")
    assert driver.find_element(By.ID, "zt-kpi-xlsx").get_attribute("href").endswith(
        f"/kpi/export.xlsx?kpi=checkin_on_site&region=44&{PERIOD}")


def test_page_only_for_its_roles(client, tokens):
    for role, user in BY_ROLE.items():
        body = client.post("/_dash-update-component", json=pages_request("/kpi"), headers=bearer(tokens, user))
        text = json.dumps(body.get_json(), ensure_ascii=False)
        assert ("zt-kpi-value" in text) == (role != "inspector"), role
    manager = client.post("/_dash-update-component", json=pages_request("/kpi"), headers=bearer(tokens, "manager_sz"))
    text = json.dumps(manager.get_json(), ensure_ascii=False)
    assert "深圳市" in text and "zt-kpi-target-set" in text  # own region by default; may set targets
    operator = client.post("/_dash-update-component", json=pages_request("/kpi"),
                           headers=bearer(tokens, "t_operator_gz"))
    assert "zt-kpi-target-set" not in json.dumps(operator.get_json())


def test_target_form_saves_for_managers_only(client, tokens, db_url):
    from tests.helpers import callback_request

    state = {"kpi": "task_on_time", "region": "4403", "from": "2026-11-01", "to": "2026-11-30"}

    def save(user, value):
        body = callback_request("zt-kpi-target-msg.children", [("zt-kpi-target-set", "n_clicks", 1)],
                                [("zt-kpi-target-value", "value", value), ("zt-kpi-state", "data", state)])
        return client.post("/_dash-update-component", json=body, headers=bearer(tokens, user))

    try:
        saved = save("manager_sz", 88.5)
        assert saved.status_code == 200 and "已保存目标" in json.dumps(saved.get_json(), ensure_ascii=False)
        assert one(db_url, "SELECT target FROM kpi_targets WHERE kpi_id = 'task_on_time' AND region = '4403' "
                           "AND period_from = '2026-11-01' AND source = 'user'") == 88.5
        refused = save("manager_sz", 250)
        assert "超出范围" in json.dumps(refused.get_json(), ensure_ascii=False)
        assert save("t_operator_gz", 50).status_code == 403
    finally:
        from contextlib import closing

        from geo.db import connect

        with closing(connect(db_url)) as conn, conn, conn.cursor() as cur:
            cur.execute("DELETE FROM kpi_targets WHERE region = '4403' AND source = 'user'")
