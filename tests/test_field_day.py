"""An inspector's day on a phone, as a new user would try it, checked end to end.

Real headless Chromium at 390×844 with touch and a GPS fix at the site: sign in, find the task at
the top of 今日任务, open it, check in, capture three pieces of evidence (one online, two while the
network is gone), see them all 已接收 once it is back; then the database, the content-addressed
store and `zhengtu evidence verify` must agree with what the phone sent — and a flipped byte in
one stored file must be named by its evidence id.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import time
import uuid
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By

from geo.db import connect
from tests.browser import TEST_PASSWORD, chromium, offline, queue_item, wait_item
from tests.conftest import bearer
from tests.helpers import PHOTOS, one

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
PHONE = (390, 844)
HEX64 = re.compile(r"[0-9a-f]{64}")
ENTITY_OFFSET = 22  # past the offsets tests/test_field_browser.py uses (5–21)


# ---------- helpers ----------

def wait(driver, script: str, timeout: float = 30, what: str = ""):
    """Poll a JS expression until it is truthy (bounded); return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script("try { return (" + script + "); } catch (e) { return null; }")
        if value:
            return value
        time.sleep(0.2)
    body = driver.find_element(By.TAG_NAME, "body").get_attribute("innerText")[:800]
    raise AssertionError(f"timed out waiting for {what or script}: {body}")


def place(driver, lon: float, lat: float, accuracy: float = 8.0) -> None:
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                           {"latitude": lat, "longitude": lon, "accuracy": accuracy})


def rows_with(db_url: str, sha256: str, task_id: int) -> list[int]:
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id FROM evidence WHERE sha256 = %s AND task_id = %s", (sha256, task_id))
        return [r[0] for r in cur.fetchall()]


def zhengtu_verify(db_url: str, settings, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": db_url, "ZHENGTU_EVIDENCE_DIR": str(settings.evidence_dir)}
    return subprocess.run([sys.executable, "-m", "dashboard.cli", "evidence", "verify", *args],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)


@pytest.fixture
def phone(live_url):
    driver = chromium(*PHONE, mobile=True)
    driver.set_script_timeout(60)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": live_url, "permissions": ["geolocation"]})
    yield driver
    driver.quit()


# ---------- the day ----------

def test_an_inspectors_day_on_a_phone(app, tokens, db_url, live_url, settings, phone, tmp_path):
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, ST_X(geom), ST_Y(geom), name FROM entities WHERE district_adcode = '440106' "
                    "ORDER BY id OFFSET %s LIMIT 1", (ENTITY_OFFSET,))
        entity_id, lon, lat, name = cur.fetchone()

    # the office assigns a fresh task for today's round
    response = app.server.test_client().post("/api/tasks", headers=bearer(tokens, "t_admin_gd"), json={
        "entity_id": entity_id, "assignees": ["insp_tianhe"], "kind": "routine",
        "due": (date.today() + timedelta(days=1)).isoformat()})
    assert response.status_code == 201, response.get_json()
    task_id = response.get_json()["id"]

    # standing at the site, the inspector opens the field app and is asked to sign in
    place(phone, lon, lat)
    phone.get(live_url + "/field")
    login = urlparse(phone.current_url)
    assert login.path == "/login" and parse_qs(login.query).get("next") == ["/field"], phone.current_url
    phone.find_element(By.NAME, "username").send_keys("insp_tianhe")
    phone.find_element(By.NAME, "password").send_keys(TEST_PASSWORD)
    phone.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(phone, "location.pathname === '/field'", what="back on /field after login")
    assert phone.execute_script("return window.innerWidth") == PHONE[0]

    # 今日任务, nearest first: the task here is at the top
    wait(phone, "document.getElementById('zt-task-list').dataset.sorted === 'distance' && "
                "document.querySelector('#zt-task-list li[data-task-id]')", what="a distance-sorted task list")
    assert "今日任务" in phone.find_element(By.CSS_SELECTOR, "#zt-panel-tasks h2").text
    listed = phone.execute_script("""
        return Array.from(document.querySelectorAll('#zt-task-list li[data-task-id]'))
                    .map(li => [Number(li.dataset.taskId), Number(li.dataset.distance)]);""")
    assert len(listed) >= 2, listed  # the seeded task is listed too: "first" means something
    assert listed[0][0] == task_id and listed[0][1] < 1, listed
    distances = [d for _, d in listed]
    assert distances == sorted(distances), listed

    # open it with a tap on the list entry
    first = phone.find_element(By.CSS_SELECTOR, f"#zt-task-list li[data-task-id='{task_id}'] a")
    assert first.is_displayed()
    first.click()
    wait(phone, f"location.hash === '#task/{task_id}' && "
                f"document.getElementById('zt-task-name').textContent === {json.dumps(name)}",
         what="the task view")
    wait(phone, "window.ZT && ZT.queue && document.querySelector('#zt-task-queue li')", what="the task's queue")

    # check in on site
    place(phone, lon, lat)  # a fresh fix, as a phone standing there keeps producing
    phone.find_element(By.ID, "zt-checkin").click()
    text = wait(phone, "document.getElementById('zt-checkin-result').dataset.state === 'on_site' && "
                       "document.getElementById('zt-checkin-result').textContent", what="the on-site result")
    assert "在现场" in text and "不在现场" not in text
    assert one(db_url, "SELECT bool_and(on_site) AND count(*) = 1 FROM checkins WHERE task_id = %s",
               (task_id,)) is True

    # evidence 1, online: a photo
    photo1 = PHOTOS / "DSCN0010.jpg"
    sha1 = hashlib.sha256(photo1.read_bytes()).hexdigest()
    phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(photo1))
    shown1 = wait_item(phone, sha1, "received", timeout=45)
    assert shown1["label"] == "已接收" and shown1["receipt"] and f"回执 #{shown1['receipt']}" in shown1["message"]
    assert rows_with(db_url, sha1, task_id) == [int(shown1["receipt"])]

    # the network goes: evidence 2 (a photo) and 3 (a note) wait on the phone
    offline(phone, True)
    wait(phone, "navigator.onLine === false", what="the page to see it is offline")
    # DSCN0021.jpg with a unique tail (still a valid JPEG, same EXIF): tests/test_evidence_api.py counts
    # rows holding the untouched photo's hash across the whole session database, so leave that hash alone
    photo2 = tmp_path / "DSCN0021.jpg"
    photo2.write_bytes((PHOTOS / "DSCN0021.jpg").read_bytes() + uuid.uuid4().bytes)
    sha2 = hashlib.sha256(photo2.read_bytes()).hexdigest()
    phone.find_element(By.CSS_SELECTOR, "input[data-kind=photo]").send_keys(str(photo2))
    wait(phone, f"document.querySelector('#zt-task-queue li[data-sha256=\"{sha2}\"]')", what="photo 2 queued")
    note = f"现场检查：灭火器过期一具，已责令当日更换。{uuid.uuid4().hex[:8]}"
    phone.find_element(By.ID, "zt-note").send_keys(note)
    save = phone.find_element(By.CSS_SELECTOR, "#zt-note-form button[type=submit]")
    # scrolled to mid-screen as a thumb would (chromedriver's own scroll leaves it under the fixed tab bar)
    phone.execute_script("arguments[0].scrollIntoView({block: 'center'})", save)
    save.click()
    sha3 = hashlib.sha256(note.encode("utf-8")).hexdigest()  # the page uploads the note as UTF-8 text
    wait(phone, f"document.querySelector('#zt-task-queue li[data-sha256=\"{sha3}\"]')", what="the note queued")
    seen = {sha2: set(), sha3: set()}
    deadline = time.monotonic() + 5  # longer than the first retry's backoff: attempts fail meanwhile
    while time.monotonic() < deadline:
        for sha in seen:
            shown = queue_item(phone, sha)
            seen[sha].add(shown["state"])
            assert shown["state"] != "received" and shown["label"] != "已接收" and shown["receipt"] is None, shown
        time.sleep(0.2)
    for sha in (sha2, sha3):
        shown = wait_item(phone, sha, "waiting", timeout=15)
        assert shown["label"] == "等待" and shown["receipt"] is None, shown
        assert seen[sha] <= {"waiting", "sending"}, seen
        assert rows_with(db_url, sha, task_id) == []

    # the network is back: both are sent by themselves, each with its receipt
    offline(phone, False)
    receipts = {sha1: int(shown1["receipt"])}
    for sha in (sha2, sha3):
        shown = wait_item(phone, sha, "received", timeout=60)
        assert shown["label"] == "已接收" and shown["receipt"] and f"回执 #{shown['receipt']}" in shown["message"]
        receipts[sha] = int(shown["receipt"])
    assert len(set(receipts.values())) == 3, receipts

    # the database: exactly these three, hashes as sent, files stored once and intact
    with closing(connect(db_url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT id, kind, sha256, sm3, path FROM evidence WHERE task_id = %s ORDER BY id", (task_id,))
        rows = [(i, k, s.strip(), m.strip(), p) for i, k, s, m, p in cur.fetchall()]
    assert len(rows) == 3, rows
    assert {s: i for i, _, s, _, _ in rows} == receipts  # each receipt is the row for those bytes
    assert {s: k for _, k, s, _, _ in rows} == {sha1: "photo", sha2: "photo", sha3: "note"}
    sent = {sha1: photo1.read_bytes(), sha2: photo2.read_bytes(), sha3: note.encode("utf-8")}
    store = settings.evidence_dir
    for evidence_id, _kind, sha256, sm3, path in rows:
        assert HEX64.fullmatch(sha256) and HEX64.fullmatch(sm3), (sha256, sm3)
        stored = (store / path).read_bytes()
        assert stored == sent[sha256], f"evidence {evidence_id}: stored bytes differ from what was sent"
        assert hashlib.sha256(stored).hexdigest() == sha256
        assert hashlib.new("sm3", stored).hexdigest() == sm3
        copies = [p for p in (store / "sha256").rglob(f"{sha256}*") if p.is_file()]
        assert copies == [store / path], copies
    assert len({p for *_, p in rows}) == 3

    # the chain verifies; a flipped byte in one stored file is named by its evidence id
    ok = zhengtu_verify(db_url, settings, "--task", str(task_id))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "5 links checked, 0 problems" in ok.stdout, ok.stdout  # task, check-in, three pieces of evidence
    tampered_id, *_, tampered_path = next(r for r in rows if r[2] == sha3)
    target = store / tampered_path
    original, mode = target.read_bytes(), stat.S_IMODE(target.stat().st_mode)
    try:
        target.chmod(0o640)
        target.write_bytes(original[:-1] + bytes([original[-1] ^ 0x01]))
        broken = zhengtu_verify(db_url, settings, "--task", str(task_id))
        assert broken.returncode == 1, broken.stdout + broken.stderr
        assert f"evidence {tampered_id}: file content does not match its SHA-256" in broken.stdout, broken.stdout
        assert "1 problems" in broken.stdout, broken.stdout
        for other_id, *_ in rows:
            if other_id != tampered_id:
                assert f"evidence {other_id}:" not in broken.stdout, broken.stdout
    finally:
        target.chmod(0o640)
        target.write_bytes(original)
        target.chmod(mode)
    assert zhengtu_verify(db_url, settings, "--task", str(task_id)).returncode == 0
