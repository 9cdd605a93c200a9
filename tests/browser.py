"""Debian's Chromium under Selenium, headless, with the flags this machine and CI need."""

from __future__ import annotations

import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


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
