"""The field pages on a phone: real headless Chromium, 390×844, touch, overridden GPS, lost networks.

Each test signs in through the real login form on a fresh profile (empty IndexedDB, no service
worker yet), creates its own task through the API and checks the database, not only the page.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import threading
import time
import uuid
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
import websocket
from pyproj import Geod
from selenium.webdriver.common.by import By
from werkzeug.serving import WSGIRequestHandler, make_server

from geo.crs import wgs84_to_gcj02
from geo.db import connect
from tests.browser import TEST_PASSWORD, chromium, offline, queue_item, wait_item
from tests.conftest import bearer
from tests.helpers import one

pytestmark = pytest.mark.browser
from tests.helpers import PHOTOS  # noqa: E402 - the shared real photos

PHONE = (390, 844)
GEOD = Geod(ellps="WGS84")


# ---------- set-up ----------

def tianhe_entities(db_url: str, offset: int, count: int = 1) -> list[tuple[int, float, float, str]]:
    """Entities of 天河区 away from the lowest ids other test modules use: (id, lon, lat, name)."""
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom), name FROM entities WHERE district_adcode = '440106' "
                    "ORDER BY id OFFSET %s LIMIT %s", (offset, count))
        return cur.fetchall()


def make_task(app, tokens, entity_id: int) -> int:
    body = {"entity_id": entity_id, "assignees": ["insp_tianhe"], "kind": "routine",
            "due": (date.today() + timedelta(days=1)).isoformat()}
    response = app.server.test_client().post("/api/tasks", json=body, headers=bearer(tokens, "t_admin_gd"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def make_phone(live_url: str, width: int, height: int):
    """A phone: small touch screen, geolocation allowed for the app's origin."""
    driver = chromium(width, height, mobile=True)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": live_url, "permissions": ["geolocation"]})
    return driver


@pytest.fixture
def phone(live_url):
    driver = make_phone(live_url, *PHONE)
    yield driver
    driver.quit()


@pytest.fixture
def small_phone(live_url):
    driver = make_phone(live_url, 360, 740)
    yield driver
    driver.quit()


def place(driver, lon: float, lat: float, accuracy: float = 8.0) -> None:
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                           {"latitude": lat, "longitude": lon, "accuracy": accuracy})


def wait(driver, script: str, timeout: float = 30, what: str = "") -> object:
    """Poll a JS expression until it is truthy; return its value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = driver.execute_script("try { return (" + script + "); } catch (e) { return null; }")
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or script}: " + driver.find_element(
        By.TAG_NAME, "body").get_attribute("innerText")[:800])


def sign_in_to(driver, live_url: str, path: str, username: str = "insp_tianhe") -> None:
    """Open a field page, get sent to the login form, sign in, land back on the page."""
    driver.get(live_url + path)
    assert "/login?next=" in driver.current_url
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(TEST_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver, f"location.pathname === {json.dumps(path)}", what="redirect back after login")


def open_task(driver, live_url: str, task_id: int, name: str) -> None:
    sign_in_to(driver, live_url, "/field")
    driver.get(f"{live_url}/field#task/{task_id}")
    wait(driver, f"document.getElementById('zt-task-name').textContent === {json.dumps(name)}",
         what="the task view")
    wait(driver, "window.ZT && ZT.queue && document.querySelector('#zt-task-queue li')", what="the queue")


def unique_photo(tmp_path: Path) -> tuple[Path, str]:
    """A real camera photo with a unique tail (still a valid JPEG), so its hash is new to the database."""
    path = tmp_path / "现场照片.jpg"
    shutil.copyfile(PHOTOS / "DSCN0042.jpg", path)
    with path.open("ab") as f:
        f.write(uuid.uuid4().bytes)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def rows_with(db_url: str, sha256: str) -> list[tuple]:
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, idempotency_key::text, task_id FROM evidence WHERE sha256 = %s", (sha256,))
        return cur.fetchall()


# ---------- check-in ----------

def test_check_in_on_site(app, tokens, db_url, live_url, phone):
    entity_id, lon, lat, name = tianhe_entities(db_url, 5)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat, accuracy=10)
    open_task(phone, live_url, task_id, name)
    place(phone, lon, lat, accuracy=10)  # a fresh fix, as a phone standing there keeps producing
    phone.find_element(By.ID, "zt-checkin").click()
    text = wait(phone, "document.getElementById('zt-checkin-result').dataset.state === 'on_site' && "
                       "document.getElementById('zt-checkin-result').textContent", what="on-site result")
    assert "在现场" in text
    assert not phone.find_element(By.ID, "zt-reason-form").is_displayed()
    on_site = one(db_url, "SELECT on_site FROM checkins WHERE task_id = %s ORDER BY id DESC LIMIT 1", (task_id,))
    assert on_site is True


def test_check_in_off_site_demands_a_reason(app, tokens, db_url, live_url, phone):
    entity_id, lon, lat, name = tianhe_entities(db_url, 6)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat + 0.009, accuracy=10)  # about 1 km north of the site
    open_task(phone, live_url, task_id, name)
    place(phone, lon, lat + 0.009, accuracy=10)
    phone.find_element(By.ID, "zt-checkin").click()
    wait(phone, "document.getElementById('zt-reason-form').offsetParent !== null", what="the reason form")
    result = phone.find_element(By.ID, "zt-checkin-result").text
    assert "不在现场" in result and "须说明原因" in result
    checkin_id = one(db_url, "SELECT id FROM checkins WHERE task_id = %s", (task_id,))
    assert one(db_url, "SELECT count(*) FROM checkin_reasons WHERE checkin_id = %s", (checkin_id,)) == 0
    phone.refresh()  # the demand survives a reload: the reason is still owed
    wait(phone, "document.getElementById('zt-reason-form').offsetParent !== null", what="the form after reload")
    reason = "门店已关闭，在对面路口等候当事人"
    phone.find_element(By.ID, "zt-reason").send_keys(reason)
    phone.find_element(By.CSS_SELECTOR, "#zt-reason-form button[type=submit]").click()
    wait(phone, "document.getElementById('zt-checkin-result').dataset.state === 'reason_given'", what="reason saved")
    assert one(db_url, "SELECT reason FROM checkin_reasons WHERE checkin_id = %s", (checkin_id,)) == reason
    assert not phone.find_element(By.ID, "zt-reason-form").is_displayed()


# ---------- evidence ----------

def test_photo_taken_offline_is_uploaded_once_when_the_network_returns(app, tokens, db_url, live_url, phone,
                                                                       tmp_path):
    entity_id, lon, lat, name = tianhe_entities(db_url, 7)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    photo, sha256 = unique_photo(tmp_path)
    offline(phone, True)
    phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(photo))
    item = wait_item(phone, sha256, "waiting")["key"]
    time.sleep(3)  # a few retries' worth of backoff, all failing: never shown as sent
    shown = wait_item(phone, sha256, "waiting")  # (between attempts; an attempt itself shows 发送中)
    assert shown["label"] == "等待" and shown["receipt"] is None and "网络" in shown["message"]
    assert rows_with(db_url, sha256) == []
    offline(phone, False)
    shown = wait_item(phone, sha256, "received", timeout=45)
    done = shown["receipt"]
    assert shown["label"] == "已接收" and f"回执 #{done}" in shown["message"]
    rows = rows_with(db_url, sha256)
    assert len(rows) == 1 and rows[0] == (int(done), item, task_id)  # same key as queued, one row


class DevTools:
    """A second DevTools client on the page (Selenium's own cannot wait for events)."""

    def __init__(self, driver, url_prefix: str) -> None:
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        targets = requests.get(f"http://{address}/json/list", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page" and t["url"].startswith(url_prefix))
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], suppress_origin=True, timeout=60)
        self.next_id = 0

    def send(self, method: str, **params) -> None:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))

    def event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == method:
                return message["params"]
        raise AssertionError(f"no {method} event")

    def close(self) -> None:
        self.ws.close()


def test_upload_cut_off_after_the_server_stored_it_is_retried_without_a_duplicate(
        app, tokens, db_url, live_url, phone, tmp_path):
    entity_id, lon, lat, name = tianhe_entities(db_url, 8)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    photo, sha256 = unique_photo(tmp_path)
    devtools = DevTools(phone, live_url + "/field")
    try:
        # hold the first answer of POST /api/evidence: the server has stored it, the phone never hears
        devtools.send("Fetch.enable", patterns=[{"urlPattern": "*/api/evidence", "requestStage": "Response"}])
        phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(photo))
        paused = devtools.event("Fetch.requestPaused")
        assert paused["request"]["method"] == "POST" and paused["responseStatusCode"] == 201
        first = rows_with(db_url, sha256)
        assert len(first) == 1
        assert queue_item(phone, sha256)["state"] == "sending"  # not "received": the phone has no answer
        devtools.send("Fetch.failRequest", requestId=paused["requestId"], errorReason="ConnectionReset")
        devtools.send("Fetch.disable")
    finally:
        devtools.close()
    wait_item(phone, sha256, "waiting")
    done = wait_item(phone, sha256, "received", timeout=45)["receipt"]
    assert rows_with(db_url, sha256) == first and int(done) == first[0][0]  # the replay, not a second row


def test_a_receipt_with_another_hash_is_not_taken_as_received(app, tokens, db_url, live_url, phone, tmp_path):
    entity_id, lon, lat, name = tianhe_entities(db_url, 19)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    photo, sha256 = unique_photo(tmp_path)
    devtools = DevTools(phone, live_url + "/field")
    try:  # answer in the server's place: "201, stored", but for other bytes
        devtools.send("Fetch.enable", patterns=[{"urlPattern": "*/api/evidence", "requestStage": "Request"}])
        phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(photo))
        paused = devtools.event("Fetch.requestPaused")
        forged = json.dumps({"id": 424242, "sha256": "0" * 64, "received_at": "2026-11-25T10:00:00+08:00"})
        devtools.send("Fetch.fulfillRequest", requestId=paused["requestId"], responseCode=201,
                      responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
                      body=base64.b64encode(forged.encode()).decode())
        devtools.send("Fetch.disable")
    finally:
        devtools.close()
    shown = wait_item(phone, sha256, "failed")
    assert "哈希" in shown["message"] and shown["receipt"] is None  # kept on the phone, not "已接收"
    assert rows_with(db_url, sha256) == []


def test_a_refused_upload_is_shown_as_failed_and_not_retried(app, tokens, db_url, live_url, phone, tmp_path):
    entity_id, lon, lat, name = tianhe_entities(db_url, 9)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    phone.execute_script("""  // count uploads (the page's own fetch, untouched otherwise)
        window.__posts = 0; const real = window.fetch;
        window.fetch = (url, opts) => { if (String(url).includes('/api/evidence')) window.__posts++;
                                         return real(url, opts); };""")
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(b"not a photo at all " + uuid.uuid4().bytes)
    sha256 = hashlib.sha256(fake.read_bytes()).hexdigest()
    phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(fake))
    shown = wait_item(phone, sha256, "failed")
    assert shown["label"] == "失败" and "415" in shown["message"] and shown["receipt"] is None
    time.sleep(5)  # longer than the first backoff steps
    assert queue_item(phone, sha256)["state"] == "failed"
    assert phone.execute_script("return window.__posts") == 1
    assert rows_with(db_url, sha256) == []


def test_a_note_is_uploaded_as_a_utf8_text_file(app, tokens, db_url, live_url, phone):
    entity_id, lon, lat, name = tianhe_entities(db_url, 18)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    text = f"现场检查：后厨地面湿滑，已口头提醒。{uuid.uuid4().hex[:8]}"
    phone.find_element(By.ID, "zt-note").send_keys(text)
    phone.find_element(By.CSS_SELECTOR, "#zt-note-form button[type=submit]").click()
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    receipt = wait_item(phone, sha256, "received")["receipt"]
    kind, media = (one(db_url, f"SELECT {c} FROM evidence WHERE id = %s", (int(receipt),))
                   for c in ("kind", "media_type"))
    assert kind == "note" and media.startswith("text/plain")


def test_logout_forgets_cached_dossiers_but_keeps_unsent_evidence(app, tokens, db_url, live_url, phone, tmp_path):
    entity_id, lon, lat, name = tianhe_entities(db_url, 21)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    phone.get(live_url + "/field#tasks")
    wait(phone, "document.querySelector('#zt-task-list li[data-task-id]')", what="task list")
    phone.find_element(By.ID, "zt-offline-pack").click()
    wait(phone, "document.getElementById('zt-offline-status').textContent.startsWith('已离线保存')", timeout=90,
         what="the offline pack")
    phone.get(f"{live_url}/field#task/{task_id}")
    refused = tmp_path / "photo.jpg"  # refused by the server (415): stays in the queue as 失败
    refused.write_bytes(b"not a photo " + uuid.uuid4().bytes)
    sha256 = hashlib.sha256(refused.read_bytes()).hexdigest()
    wait(phone, "window.ZT && ZT.queue", what="the queue")
    phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(refused))
    wait_item(phone, sha256, "failed")
    assert phone.execute_script("return caches.has('zt-field-data')")
    phone.find_element(By.CSS_SELECTOR, "#zt-logout button[type=submit]").click()
    alert = phone.switch_to.alert
    assert "1 份证据未上传" in alert.text
    alert.accept()
    wait(phone, "location.pathname === '/login'", what="the login page")
    assert phone.execute_script(
        "return Promise.all(['zt-field-data', 'zt-field-tiles'].map(n => caches.has(n)))") == [False, False]
    kept = phone.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const open = indexedDB.open('zt-field');
        open.onsuccess = () => {
          const all = open.result.transaction('queue').objectStore('queue').getAll();
          all.onsuccess = () => done(all.result.map(i => i.sha256));
        };""")
    assert sha256 in kept


class OneConnectionPerRequest(WSGIRequestHandler):
    """HTTP/1.0: once the server stops, no kept-alive connection can still answer."""

    protocol_version = "HTTP/1.0"


@pytest.fixture
def own_server(app):
    """The app on its own port, to be switched off in the middle of a test."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True, request_handler=OneConnectionPerRequest)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_taken_offline_the_shell_dossier_and_map_open_with_the_server_gone(app, tokens, db_url, phone, own_server):
    server, url = own_server
    (entity_id, lon, lat, name), (other_id, *_) = tianhe_entities(db_url, 16, 2)
    task_id = make_task(app, tokens, entity_id)
    phone.execute_cdp_cmd("Browser.grantPermissions", {"origin": url, "permissions": ["geolocation"]})
    place(phone, lon, lat)
    sign_in_to(phone, url, "/field")
    wait(phone, "document.getElementById('zt-task-list').dataset.sorted === 'distance' && "
                "navigator.serviceWorker.controller", what="a listed, service-worker controlled page")
    phone.find_element(By.ID, "zt-offline-pack").click()
    wait(phone, "document.getElementById('zt-offline-status').textContent.startsWith('已离线保存')", timeout=90,
         what="the offline pack")
    server.shutdown()
    server.server_close()
    phone.execute_cdp_cmd("Network.clearBrowserCache", {})  # only the service worker's caches remain
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/field", timeout=5)
    phone.get(url + "/field")
    wait(phone, f"document.querySelector('#zt-task-list li[data-task-id=\"{task_id}\"]')", what="cached task list")
    assert "离线" in phone.find_element(By.ID, "zt-banner").text
    phone.get(f"{url}/field/entity/{entity_id}")
    assert wait(phone, "document.getElementById('zt-entity-name').textContent") == name
    wait(phone, "window.ztFieldMap && ztFieldMap.loaded() && "
                "ztFieldMap.querySourceFeatures('entities', {sourceLayer: 'entities'}).length > 0",
         timeout=30, what="entities drawn from cached tiles")
    phone.get(f"{url}/field/entity/{other_id}")  # never packed: an honest offline note
    assert "没有离线副本" in wait(phone, "document.body.innerText")


# ---------- tasks by distance, navigation hand-off ----------

def test_task_list_is_sorted_by_distance_from_the_phone(app, tokens, db_url, live_url, phone):
    (here_id, lon, lat, _), *others = tianhe_entities(db_url, 10, 4)
    made = {make_task(app, tokens, e[0]) for e in [(here_id,), *others]}
    place(phone, lon, lat)
    sign_in_to(phone, live_url, "/field")
    wait(phone, "document.getElementById('zt-task-list').dataset.sorted === 'distance'", what="a sorted list")
    shown = phone.execute_script("""
        return Array.from(document.querySelectorAll('#zt-task-list li[data-task-id]'))
                    .map(li => [Number(li.dataset.taskId), Number(li.dataset.distance)]);""")
    tasks = requests.get(f"{live_url}/api/tasks", headers=bearer(tokens, "insp_tianhe"), timeout=10).json()
    where = {t["id"]: (t["lon"], t["lat"]) for t in tasks if t["status"] != "done"}
    assert made <= {i for i, _ in shown} and {i for i, _ in shown} == set(where)
    distances = [d for _, d in shown]
    assert distances == sorted(distances)
    for task_id, distance in shown:  # the page's distance agrees with a geodesic one
        assert abs(GEOD.inv(lon, lat, *where[task_id])[2] - distance) <= max(1.0, distance * 0.005)
    assert shown[0][1] < 1  # the task here comes first


def test_navigation_links_use_gcj02_for_amap_and_baidu(db_url, live_url, phone):
    entity_id, lon, lat, _ = tianhe_entities(db_url, 14)[0]
    sign_in_to(phone, live_url, f"/field/entity/{entity_id}")
    links = wait(phone, "Array.from(document.querySelectorAll('#zt-nav-links a')).map(a => a.href)",
                 what="navigation links")
    glon, glat = wgs84_to_gcj02(lon, lat)
    js = phone.execute_script("return ZT.wgs84ToGcj02(arguments[0], arguments[1]);", lon, lat)
    assert abs(js[0] - glon) < 1e-9 and abs(js[1] - glat) < 1e-9  # the same formula as geo/crs.py
    geo, amap, baidu = links
    assert geo.startswith(f"geo:{lat:.6f},{lon:.6f}")
    assert f"to={glon:.6f},{glat:.6f}," in amap and "coordinate=gaode" in amap
    assert f"location={glat:.6f},{glon:.6f}" in baidu and "coord_type=gcj02" in baidu


SMALL_TARGETS = """
    return Array.from(document.querySelectorAll('a, button, label.zt-f-btn, input:not([type=hidden]), textarea'))
      .filter(el => el.offsetParent !== null)
      .map(el => [el.tagName + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || '').trim().slice(0, 12),
                  el.getBoundingClientRect()])
      .filter(([, r]) => r.width > 0 && (r.width < 44 || r.height < 44))
      .map(([what, r]) => `${what} ${Math.round(r.width)}×${Math.round(r.height)}`);"""


def test_touch_targets_are_at_least_44px_and_nothing_scrolls_sideways_at_360px(app, tokens, db_url, live_url,
                                                                                 small_phone):
    phone = small_phone
    entity_id, lon, lat, name = tianhe_entities(db_url, 20)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat)
    open_task(phone, live_url, task_id, name)
    checked = []
    for view in (f"/field#task/{task_id}", "/field#tasks", "/field#nearby", "/field#queue",
                 f"/field/entity/{entity_id}"):
        phone.get(live_url + view)
        wait(phone, "document.readyState === 'complete' && (!document.getElementById('zt-task-list') || "
                    "document.querySelector('#zt-task-list li'))", what=view)
        time.sleep(0.5)
        assert phone.execute_script(SMALL_TARGETS) == [], view
        assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth"), view
        checked.append(phone.execute_script("return window.innerWidth"))
    assert checked == [360] * 5


# ---------- the result ----------

def test_result_with_follow_up_opens_a_case_from_the_phone(app, tokens, db_url, live_url, phone):
    entity_id, lon, lat, name = tianhe_entities(db_url, 31)[0]
    task_id = make_task(app, tokens, entity_id)
    place(phone, lon, lat, accuracy=10)
    open_task(phone, live_url, task_id, name)
    phone.find_element(By.CSS_SELECTOR, "#zt-result-form button").click()
    assert "请选择" in wait(phone, "document.getElementById('zt-result-status').textContent", what="hint")
    phone.execute_script("document.getElementById('zt-result').value = '发现问题待后续处理'")
    phone.find_element(By.CSS_SELECTOR, "#zt-result-form button").click()
    refused = wait(phone, "document.getElementById('zt-result-status').textContent.includes('未完成') && "
                          "document.getElementById('zt-result-status').textContent", what="findings demanded")
    assert "检查情况" in refused
    phone.find_element(By.ID, "zt-findings").send_keys("后厨未按规定留样")
    phone.find_element(By.CSS_SELECTOR, "#zt-result-form button").click()
    text = wait(phone, "document.getElementById('zt-result-status').dataset.state === 'on_site' && "
                       "document.getElementById('zt-result-status').textContent", what="result recorded")
    case_id = one(db_url, "SELECT case_id FROM task_results WHERE task_id = %s", (task_id,))
    assert case_id is not None and f"案件 {case_id}" in text and "已立案" in text
    assert one(db_url, "SELECT stage FROM cases WHERE id = %s", (case_id,)) == "立案"
    assert not phone.find_element(By.ID, "zt-result-form").is_displayed()
