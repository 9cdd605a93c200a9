"""Benchmark: the first load of /field on a phone with a cold cache, in real headless Chromium.

Signs in as an inspector, empties the browser's HTTP cache, Cache Storage, service workers and
IndexedDB (keeping the session cookie), then opens /field on a 390×844 touch screen with a GPS fix
in 天河区 and waits until the task list is sorted by distance, the map has drawn its tiles and the
service worker controls the page. A DevTools client attached to the page and, automatically, to its
workers (MapLibre fetches tiles in a worker; the service worker precaches the shell) sums
``encodedDataLength`` (compressed bodies plus headers) of every response. Prints, twice — as Chromium
negotiates (zstd/br/gzip) and with ``Accept-Encoding: gzip`` only, the encoding the budget is stated
in — the bytes, the request count, the encodings seen, whether the total is ≤ 1 MB and whether any
request touched Plotly; when the app runs in this process also the response-body bytes the server
sent (a cross-check that nothing was missed).

Usage (after ``make demo``; uses the prepared database like bench/tiles.py):
    .venv/bin/python bench/field_first_load.py
It creates or re-keys the inspector ``bench_field`` (region 440106) with a fresh random password
and gives it a few open tasks near the district's centre (the demo inspectors' recipe).
Against a running server instead:
    ZT_BENCH_PASSWORD=… .venv/bin/python bench/field_first_load.py --url http://host:8050 --user NAME
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import closing

import websocket
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

BUDGET = 1024 * 1024
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8, "uploadThroughput": 750e3 / 8}
PHONE = (390, 844)
BENCH_USER = "bench_field"
TIANHE = (113.3612, 23.1247)


class ByteCounter:
    """WSGI middleware: response-body bytes as sent (after the app's compression), per request."""

    def __init__(self, app) -> None:
        self.app = app
        self.total = 0
        self.requests = 0
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response) -> Iterator[bytes]:
        result: Iterable[bytes] = self.app(environ, start_response)
        try:
            for chunk in result:
                with self.lock:
                    self.total += len(chunk)
                yield chunk
        finally:
            with self.lock:
                self.requests += 1
            if hasattr(result, "close"):
                result.close()


def prepare_inspector() -> tuple[str, str, tuple[float, float]]:
    """The bench inspector with a fresh password and open tasks; a position next to its first task."""
    from accounts.users import AccountError, add_user, set_password
    from dashboard.accounts_demo import ensure_demo_tasks
    from geo.db import connect, resolve_url
    from geo.settings import Settings

    password = secrets.token_urlsafe(18)
    with closing(connect(resolve_url(Settings.from_env()))) as conn:
        with conn:
            try:
                add_user(conn, BENCH_USER, "inspector", "440106", password, "基准测试执法人员")
            except AccountError:
                set_password(conn, BENCH_USER, password)
        ensure_demo_tasks(conn, [{"username": BENCH_USER, "region": "440106"}])
        with conn.cursor() as cur:
            cur.execute("SELECT ST_X(e.geom), ST_Y(e.geom) FROM inspection_tasks t "
                        "JOIN entities e ON e.id = t.entity_id WHERE %s = ANY(t.assigned_users) "
                        "AND t.status <> 'done' ORDER BY t.id LIMIT 1", (BENCH_USER,))
            row = cur.fetchone()
    where = (row[0] + 0.0015, row[1] + 0.001) if row else TIANHE  # ~200 m from the first task
    return BENCH_USER, password, where


def serve_here() -> tuple[str, ByteCounter]:
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    counter = ByteCounter(create_app().server)
    server = make_server("127.0.0.1", 0, counter, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", counter


def phone_browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-sync", "--lang=zh-CN",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='zt-bench-')}", f"--window-size={PHONE[0]},{PHONE[1]}"):
        options.add_argument(flag)
    options.add_experimental_option("mobileEmulation", {
        "deviceMetrics": {"width": PHONE[0], "height": PHONE[1], "pixelRatio": 3, "touch": True}})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Recorder:
    """A DevTools client on the page that also attaches to its workers (MapLibre fetches tiles there).

    Selenium's own log sees only the page's requests; tiles would go uncounted.
    """

    def __init__(self, driver: webdriver.Chrome, url_prefix: str, headers: dict[str, str],
                 conditions: dict | None = None) -> None:
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json/list", timeout=10) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t["type"] == "page" and t["url"].startswith(url_prefix))
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], suppress_origin=True, timeout=1)
        self.headers, self.conditions, self.next_id, self.lock = headers, conditions, 0, threading.Lock()
        self.responses: dict[str, dict] = {}
        self.sizes: dict[str, int] = {}
        self.stop = threading.Event()
        self._enable(None)
        self.send("Target.setAutoAttach", None, autoAttach=True, waitForDebuggerOnStart=True, flatten=True)
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def send(self, method: str, session: str | None, **params: object) -> None:
        with self.lock:  # the listener thread sends too (to workers as they attach)
            self.next_id += 1
            message = {"id": self.next_id, "method": method, "params": params}
            if session:
                message["sessionId"] = session
            self.ws.send(json.dumps(message))

    def _enable(self, session: str | None) -> None:
        self.send("Network.enable", session)
        self.send("Network.setExtraHTTPHeaders", session, headers=self.headers)
        if self.conditions:
            self.send("Network.emulateNetworkConditions", session, **self.conditions)

    def _listen(self) -> None:
        while not self.stop.is_set():
            try:
                message = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketConnectionClosedException, OSError):
                return
            method, params = message.get("method"), message.get("params", {})
            key = f"{message.get('sessionId', '')}/{params.get('requestId', '')}"
            if method == "Target.attachedToTarget":  # a worker: count it too, then let it run
                session = params["sessionId"]
                self._enable(session)
                self.send("Runtime.runIfWaitingForDebugger", session)
            elif method == "Network.responseReceived":
                response = params["response"]
                headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
                self.responses[key] = {"url": response["url"], "type": params.get("type", "Other"),
                                       "encoding": headers.get("content-encoding", "none"),
                                       "worker": bool(message.get("sessionId"))}
            elif method == "Network.loadingFinished":
                self.sizes[key] = params.get("encodedDataLength", 0)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.ws.close()


def wait(driver: webdriver.Chrome, expression: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.execute_script(f"try {{ return !!({expression}); }} catch (e) {{ return false; }}"):
            return
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for: {expression}")


def sign_in(driver: webdriver.Chrome, base: str, user: str, password: str) -> None:
    driver.get(base + "/login?next=/field")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait(driver, "location.pathname === '/field'", 20)


def cold_cache(driver: webdriver.Chrome, base: str) -> None:
    """Forget everything cached (HTTP cache, Cache Storage, service worker, IndexedDB), keep the cookie."""
    driver.get(base + "/field/manifest.webmanifest")  # a page of the origin that registers nothing
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.execute_cdp_cmd("Storage.clearDataForOrigin", {
        "origin": base, "storageTypes": "cache_storage,service_workers,indexeddb,local_storage"})


def first_load(driver: webdriver.Chrome, base: str, where: tuple[float, float], gzip_only: bool,
               conditions: dict | None = None) -> dict:
    cold_cache(driver, base)
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"longitude": where[0], "latitude": where[1],
                                                                 "accuracy": 12})
    recorder = Recorder(driver, base, {"Accept-Encoding": "gzip"} if gzip_only else {}, conditions)
    try:
        started = time.time()
        driver.get(base + "/field")
        wait(driver, "document.getElementById('zt-task-list').dataset.sorted === 'distance'", 30)
        wait(driver, "window.ztFieldMap && ztFieldMap.loaded() && ztFieldMap.areTilesLoaded()", 60)
        ready = time.time() - started
        wait(driver, "navigator.serviceWorker.controller", 30)
        time.sleep(2)  # stragglers
    finally:
        recorder.close()
    return summarise(recorder, ready)


def summarise(recorder: Recorder, ready_s: float) -> dict:
    by_kind: Counter = Counter()
    encodings: Counter = Counter()
    for key, size in recorder.sizes.items():
        info = recorder.responses.get(key, {"type": "Other", "encoding": "none", "url": "", "worker": False})
        kind = "Tile (worker)" if "/tiles/" in info["url"] else info["type"]
        by_kind[kind] += size
        encodings[info["encoding"]] += 1
    urls = [r["url"] for r in recorder.responses.values()]
    return {"bytes": sum(recorder.sizes.values()), "requests": len(recorder.sizes), "ready_s": ready_s,
            "by_kind": by_kind, "encodings": encodings, "plotly": [u for u in urls if "plotly" in u.lower()],
            "urls": sorted(set(urls)), "tiles": sum(1 for u in urls if "/tiles/" in u)}


def report(title: str, result: dict) -> None:
    kb = result["bytes"] / 1024
    print(f"\n{title}")
    print(f"  requests: {result['requests']} ({result['tiles']} tiles), on the wire: {kb:,.1f} KB "
          f"(budget 1,024 KB: {'OK' if result['bytes'] <= BUDGET else 'OVER'}), "
          f"ready (tasks sorted, map drawn) after {result['ready_s']:.1f} s")
    print("  by type: " + ", ".join(f"{k} {v / 1024:,.1f} KB" for k, v in result["by_kind"].most_common()))
    print("  content-encoding: " + ", ".join(f"{k} ×{v}" for k, v in result["encodings"].most_common()))
    print(f"  plotly fetched: {'YES: ' + ', '.join(result['plotly']) if result['plotly'] else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a running server (default: serve the prepared database here)")
    parser.add_argument("--user", help="inspector to sign in as (with --url; password in ZT_BENCH_PASSWORD)")
    parser.add_argument("--verbose", action="store_true", help="list every URL fetched")
    args = parser.parse_args()
    counter = None
    if args.url:
        base, user, password, where = args.url.rstrip("/"), args.user, os.environ["ZT_BENCH_PASSWORD"], TIANHE
    else:
        user, password, where = prepare_inspector()
        base, counter = serve_here()
    driver = phone_browser()
    try:
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["geolocation"]})
        sign_in(driver, base, user, password)
        print(f"first load of {base}/field as {user}, cold cache, phone {PHONE[0]}×{PHONE[1]}, "
              f"GPS fix at {where[0]:.5f},{where[1]:.5f}")
        before = counter.total if counter else 0
        negotiated = first_load(driver, base, where, gzip_only=False)
        sent = counter.total - before if counter else None
        report("as Chromium negotiates (Accept-Encoding: gzip, deflate, br, zstd)", negotiated)
        if sent is not None:
            print(f"  server response bodies incl. the service worker's precache: {sent / 1024:,.1f} KB")
        gzip = first_load(driver, base, where, gzip_only=True)
        report("gzip only (Accept-Encoding: gzip)", gzip)
        slow = first_load(driver, base, where, gzip_only=True, conditions=SLOW_4G)
        report("gzip only, weak 4G emulated (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip)", slow)
        if args.verbose:
            print("\n".join(["", "URLs:", *gzip["urls"]]))
        worst = max(negotiated["bytes"], gzip["bytes"])
        print(f"\nRESULT: first load {gzip['bytes'] / 1024:,.1f} KB gzip "
              f"({negotiated['bytes'] / 1024:,.1f} KB negotiated) — "
              f"{'within' if worst <= BUDGET else 'OVER'} the 1 MB budget; plotly fetched: "
              f"{'yes' if negotiated['plotly'] or gzip['plotly'] else 'no'}")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
