"""Debian's Chromium under Selenium, headless, with the flags this machine and CI need."""

from __future__ import annotations

import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TEST_PASSWORD = "correct horse battery"  # the test accounts' password (tests/conftest.py)


def chromium(width: int = 1280, height: int = 800, mobile: bool = False) -> webdriver.Chrome:
    """A fresh headless browser (own empty profile, no background networking)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="zt-chromium-")
    for flag in ("--headless=new", "--no-sandbox", "--disable-background-networking",
                 "--disable-component-update", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-sync", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                 "--lang=zh-CN"):
        options.add_argument(flag)
    if mobile:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def sign_in(driver, live_url: str, username: str, password: str = TEST_PASSWORD) -> None:
    """Log in through the real login form, as a person would."""
    driver.get(live_url + "/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    for _ in range(50):
        if not driver.current_url.rstrip("/").endswith("/login"):
            return
        time.sleep(0.1)
    raise AssertionError("login did not leave the login page: " + driver.page_source[:500])


def wait_for_map(driver, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.execute_script("return !!(window.ztMap && window.ztMap.loaded()"
                                 " && window.ztMap.areTilesLoaded())"):
            return
        time.sleep(0.3)
    raise AssertionError("map did not finish loading")


def idle(driver) -> None:
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const map = window.ztMap;
        if (map.loaded() && map.areTilesLoaded()) { setTimeout(done, 300); return; }
        map.once('idle', () => done());""")


# --- the field pages' evidence queue (shared by the field browser tests) ---

def offline(driver, on: bool) -> None:
    """Cut or restore the page's network (DevTools network emulation)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def queue_item(driver, sha256: str) -> dict | None:
    """How the task's evidence list shows the item with this hash (None if not listed)."""
    return driver.execute_script("""
        const li = document.querySelector(`#zt-task-queue li[data-sha256="${arguments[0]}"]`);
        return li && {state: li.dataset.state, receipt: li.dataset.receipt || null, key: li.dataset.key,
                      label: li.querySelector('.zt-f-q-state').textContent,
                      message: li.querySelector('.zt-f-q-msg').textContent};""", sha256)


def wait_item(driver, sha256: str, state: str, timeout: float = 30) -> dict:
    """Poll the task's queue until the item with this hash shows ``state``."""
    deadline = time.monotonic() + timeout
    shown = None
    while time.monotonic() < deadline:
        shown = queue_item(driver, sha256)
        if shown and shown["state"] == state:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"queue item {sha256[:12]} never reached {state}: {shown}")
