"""The wall (/ops) and the dispatch desk (/ops/desk) in real Chromium.

The wall: an event posted over the API reaches the feed and the map within 2 s, no scrollbars or
overflowing panels at 1920×1080 and 3840×2160, the stale banner comes and goes with the server, the
scene rotation. The desk: an operator registers an event by clicking the map and drives it through
立案 → 派遣 → 处置 → 反馈 → 核查 → 返工 → … → 结案; a manager sees the queue read-only.
"""

from __future__ import annotations

import os
import time
import uuid
from contextlib import closing
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from geo.db import connect
from tests.browser import sign_in
from tests.conftest import bearer

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("ZT_SHOTS", "/tmp/zt-ops-shots"))
PANELS = (".zt-ops-top", ".zt-ops-kpis", ".zt-ops-mapbox", ".zt-ops-feedbox", ".zt-ops-chart",
          ".zt-ops-tickerbox")
MUST_FIT = (".zt-ops-title", ".zt-ops-clock", ".zt-ops-kpi-label", ".zt-ops-kpi-value", ".zt-ops-wall h3",
            ".zt-ops-ticker-label")


def viewport(driver, width: int, height: int) -> None:
    """An exact CSS viewport (the window's own chrome would take some height)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def wait_until(driver, script: str, timeout: float = 30, *args):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script} (last {value!r})")


def open_wall(driver, live_url: str, user: str = "t_operator_gz", query: str = "?rotate=0") -> None:
    sign_in(driver, live_url, user)
    driver.get(live_url + "/ops" + query)
    wait_until(driver, "const s = window.ztOps && window.ztOps.stats();"
                       "return s && s.polls >= 2 && window.ztOpsMap && window.ztOpsMap.loaded();", 60)


def post_event(live_url: str, tokens: dict, description: str, lon: float = 113.3312,
               lat: float = 23.1362) -> dict:
    response = requests.post(live_url + "/api/events", headers=bearer(tokens, "t_operator_gz"), timeout=10,
                             json={"category": "0101", "lon": lon, "lat": lat, "description": description,
                                   "source": "hotline"})
    assert response.status_code == 201, response.text
    return response.json()


def test_posted_event_reaches_the_wall_within_two_seconds(live_url, driver, tokens):
    open_wall(driver, live_url)
    description = f"大屏联调 {uuid.uuid4().hex[:8]}"
    created = post_event(live_url, tokens, description)
    posted = time.monotonic()
    wait_until(driver, "return document.getElementById('zt-ops-feed').textContent.includes(arguments[0])",
               5, description)
    elapsed = time.monotonic() - posted
    assert elapsed <= 2.0, f"the event took {elapsed:.2f} s to reach the feed"
    assert driver.execute_script("return window.ztOps.shownAt(arguments[0])", created["id"])
    # and the map draws it (the GeoJSON source got it with setData)
    wait_until(driver, "return window.ztOpsMap.querySourceFeatures('events')"
                       ".some(f => f.properties.id === arguments[0])", 10, created["id"])
    first = driver.find_element(By.CSS_SELECTOR, "#zt-ops-feed li")
    assert first.get_attribute("data-id") == str(created["id"]) and "暴露垃圾" in first.text
    # the KPI tile followed (today's count includes the new one)
    assert int(driver.find_element(By.ID, "zt-ops-kpi-today").text) >= 1


def check_layout(driver, width: int, height: int) -> dict:
    """No scrollbars, panels inside the viewport and not overlapping, key texts not clipped."""
    report = driver.execute_script("""
        const [panels, mustFit] = arguments;
        const de = document.documentElement;
        const rects = [];
        panels.forEach((sel) => document.querySelectorAll(sel).forEach((el) => {
            const r = el.getBoundingClientRect();
            rects.push({sel, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
                        overflowX: el.scrollWidth - el.clientWidth, overflowY: el.scrollHeight - el.clientHeight});
        }));
        const clipped = [];
        mustFit.forEach((sel) => document.querySelectorAll(sel).forEach((el) => {
            if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 2)
                clipped.push(sel + ': ' + el.textContent.slice(0, 30));
        }));
        const overlaps = [];
        for (let i = 0; i < rects.length; i++) for (let j = i + 1; j < rects.length; j++) {
            const a = rects[i], b = rects[j];
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                overlaps.push(a.sel + ' × ' + b.sel);
        }
        return {scrollW: de.scrollWidth, scrollH: de.scrollHeight, innerW: innerWidth, innerH: innerHeight,
                bodyScrollH: document.body.scrollHeight, rects, clipped, overlaps,
                kpiFont: parseFloat(getComputedStyle(document.querySelector('.zt-ops-kpi-value')).fontSize),
                feedFont: parseFloat(getComputedStyle(document.querySelector('.zt-ops-feed-body b') ||
                                                      document.querySelector('.zt-ops-wall h3')).fontSize)};
    """, list(PANELS), list(MUST_FIT))
    assert (report["innerW"], report["innerH"]) == (width, height)
    assert report["scrollW"] <= report["innerW"] and report["scrollH"] <= report["innerH"], report
    assert report["bodyScrollH"] <= report["innerH"], report
    outside = [r for r in report["rects"] if r["left"] < 0 or r["top"] < 0 or r["right"] > width + 0.5
               or r["bottom"] > height + 0.5]
    assert outside == []
    assert [r for r in report["rects"] if r["overflowX"] > 1] == []
    assert report["overlaps"] == [], report["overlaps"]
    assert report["clipped"] == [], report["clipped"]
    assert len(report["rects"]) == len(PANELS) + 1  # two charts
    return report


def test_wall_fits_1080p_and_4k_without_scrollbars(live_url, driver, tokens):
    post_event(live_url, tokens, "版面检查：一条很长很长的事件描述，" * 6)
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(driver, live_url, "t_operator_gz")
    fonts = {}
    for width, height in ((1920, 1080), (3840, 2160)):
        viewport(driver, width, height)
        driver.get(live_url + "/ops?rotate=0")
        wait_until(driver, "const s = window.ztOps && window.ztOps.stats();"
                           "return s && s.polls >= 2 && s.feed > 0 && window.ztOpsMap.loaded()"
                           " && document.querySelector('#zt-ops-hourly .main-svg');", 90)
        time.sleep(1.5)  # let the last fitBounds and Plotly layout settle before measuring
        report = check_layout(driver, width, height)
        fonts[width] = report["kpiFont"]
        driver.save_screenshot(str(SHOTS / f"ops_{width}x{height}.png"))
        assert report["feedFont"] >= 0.016 * height  # readable from a few metres: ≥ 1.6 % of the height
    assert fonts[3840] == pytest.approx(2 * fonts[1920], rel=0.05)  # 4K scales up, not just wider


def test_stale_banner_when_the_server_stops_answering_and_recovery(live_url, driver):
    open_wall(driver, live_url)
    banner = driver.find_element(By.ID, "zt-ops-stale")
    assert not banner.is_displayed()
    driver.execute_script("""
        window.__realFetch = window.fetch;
        window.fetch = (url, opts) => String(url).includes('/api/ops/')
            ? Promise.reject(new TypeError('network down (test)')) : window.__realFetch(url, opts);""")
    wait_until(driver, "return !document.getElementById('zt-ops-stale').hidden", 10)
    text = banner.text
    assert "数据已停止更新，最后更新" in text and "data stale since" in text
    hhmmss = text.split("最后更新 ")[1][:8]
    assert len(hhmmss) == 8 and hhmmss[2] == ":" and hhmmss[5] == ":"
    assert "reconnecting" in driver.find_element(By.ID, "zt-ops-status").text
    polls = driver.execute_script("return window.ztOps.stats().polls")
    driver.execute_script("window.fetch = window.__realFetch;")
    wait_until(driver, "return document.getElementById('zt-ops-stale').hidden", 25)
    assert driver.execute_script("return window.ztOps.stats().polls") > polls
    assert "live" in driver.find_element(By.ID, "zt-ops-status").text


def test_scene_rotation_moves_between_city_and_districts(live_url, driver):
    open_wall(driver, live_url, query="?rotate=0")
    scene = driver.find_element(By.ID, "zt-ops-scene")
    assert scene.text.startswith("广州市") and "暂停" in scene.text
    driver.find_element(By.TAG_NAME, "body").send_keys("n")
    wait_until(driver, "return document.getElementById('zt-ops-scene').textContent.includes('·')", 5)
    assert driver.execute_script("return window.ztOps.stats().scene") == 1
    # a page that leaves /ops stops its timers and its map
    driver.execute_script("window.history.pushState({}, '', '/ops/desk');"
                          "window.dispatchEvent(new PopStateEvent('popstate'))")
    wait_until(driver, "return window.ztOps.stats() === null", 10)


def click_map_at(driver, map_id: str, lon: float, lat: float) -> None:
    x, y = driver.execute_script("const p = window.ztDeskMap.project([arguments[0], arguments[1]]);"
                                 "return [p.x, p.y];", lon, lat)
    element = driver.find_element(By.ID, map_id)
    size = element.size
    ActionChains(driver).move_to_element_with_offset(element, int(x - size["width"] / 2),
                                                     int(y - size["height"] / 2)).click().perform()


def step(driver, label: str, expected_status: str) -> None:
    buttons = [b for b in driver.find_elements(By.CSS_SELECTOR, "#zt-desk-buttons button") if b.text == label]
    assert buttons, f"no button {label!r}: " + driver.find_element(By.ID, "zt-desk-buttons").text
    buttons[0].click()
    wait_until(driver, "const d = document.querySelector('#zt-desk-detail [data-status]');"
                       "return d && d.dataset.status === arguments[0] && d;", 15, expected_status)


def test_desk_registers_by_map_click_and_drives_the_loop_to_closure(live_url, driver, db_url):
    viewport(driver, 1920, 1080)
    sign_in(driver, live_url, "t_operator_gz")
    driver.get(live_url + "/ops/desk")
    wait_until(driver, "return window.ztDeskMap && window.ztDeskMap.loaded()", 60)
    driver.execute_script("window.ztDeskMap.jumpTo({center: [113.2655, 23.1285], zoom: 14})")
    time.sleep(0.5)
    click_map_at(driver, "zt-desk-map", 113.2655, 23.1285)
    lon = wait_until(driver, "return document.getElementById('zt-desk-lon').value", 5)
    assert abs(float(lon) - 113.2655) < 0.001
    driver.execute_script("dash_clientside.set_props('zt-desk-reg-category', {value: '0101'})")
    description = f"调度台登记 {uuid.uuid4().hex[:8]}"
    driver.find_element(By.ID, "zt-desk-description").send_keys(description)
    driver.find_element(By.ID, "zt-desk-register").click()
    message = wait_until(driver, "const m = document.getElementById('zt-desk-registered-msg');"
                                 "return m && m.textContent", 15)
    event_id = int(message.split("已登记事件 ")[1].split("，")[0].split("（")[0])
    assert "合并" not in message  # a new event, not linked to an earlier report nearby
    wait_until(driver, "const d = document.querySelector('#zt-desk-detail [data-id]');"
                       "return d && d.dataset.id === arguments[0]", 15, str(event_id))
    for label, status in (("立案", "立案"), ("派遣", "派遣"), ("处置（代登记）", "处置"), ("反馈", "反馈"),
                          ("核查", "核查")):
        step(driver, label, status)
    driver.find_element(By.ID, "zt-desk-note").send_keys("现场仍有垃圾")
    step(driver, "核查不通过，返工", "处置")
    for label, status in (("反馈", "反馈"), ("核查", "核查"), ("核查通过，结案", "结案")):
        step(driver, label, status)
    assert driver.find_elements(By.CSS_SELECTOR, "#zt-desk-buttons button") == []
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_status, username, note FROM event_transitions WHERE event_id = %s ORDER BY at, id",
                    (event_id,))
        steps = cur.fetchall()
        cur.execute("SELECT status, rework_count, closed_at IS NOT NULL, department, description "
                    "FROM city_events WHERE id = %s", (event_id,))
        status, rework, closed, department, stored = cur.fetchone()
    assert [s[0] for s in steps] == ["信息收集", "立案", "派遣", "处置", "反馈", "核查", "处置", "反馈", "核查", "结案"]
    assert {s[1] for s in steps[1:]} == {"t_operator_gz"} and steps[6][2] == "现场仍有垃圾"
    assert (status, rework, closed, stored) == ("结案", 1, True, description) and department


def test_manager_sees_the_desk_read_only(live_url, driver):
    sign_in(driver, live_url, "manager_sz")
    driver.get(live_url + "/ops/desk")
    wait_until(driver, "return document.querySelector('.zt-desk-readonly')", 30)
    assert driver.find_elements(By.ID, "zt-desk-register") == []
    rows = driver.find_elements(By.CSS_SELECTOR, "#zt-desk-queue tbody tr")
    assert rows, "Shenzhen has open events in the demo data"
    rows[0].find_element(By.CSS_SELECTOR, "button").click()
    wait_until(driver, "return document.querySelector('#zt-desk-detail [data-status]')", 15)
    assert driver.find_elements(By.CSS_SELECTOR, "#zt-desk-buttons button") == []


def test_desk_on_a_phone_stacks_without_sideways_scroll(live_url, driver):
    viewport(driver, 390, 844)
    sign_in(driver, live_url, "t_operator_gz")
    driver.get(live_url + "/ops/desk")
    wait_until(driver, "return window.ztDeskMap && window.ztDeskMap.loaded()", 60)
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / "desk_390x844.png"))
    assert driver.execute_script("return document.documentElement.scrollWidth <= innerWidth")
