"""Screenshot pages at phone, desk and wall sizes in headless Chromium (for looking, not testing).

Usage: .venv/bin/python scripts/screenshots.py http://127.0.0.1:8050/ [out_dir]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

SIZES = {"phone": (390, 844), "desk": (1920, 1080), "wall": (3840, 2160)}


def browser(width: int, height: int, mobile: bool = False) -> webdriver.Chrome:
    """Debian's Chromium, headless, with the flags this machine needs."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-background-networking",
                 "--disable-component-update", "--disable-dev-shm-usage", "--no-first-run",
                 f"--window-size={width},{height}", "--lang=zh-CN"):
        options.add_argument(flag)
    if mobile:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main() -> None:
    """Take one PNG per size."""
    url = sys.argv[1]
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for name, (w, h) in SIZES.items():
        driver = browser(w, h, mobile=name == "phone")
        try:
            driver.get(url)
            for _ in range(60):
                if driver.execute_script("return !!(window.ztMap && window.ztMap.loaded()"
                                         " && window.ztMap.areTilesLoaded())"):
                    break
                time.sleep(0.5)
            time.sleep(1)
            path = out / f"{name}.png"
            driver.save_screenshot(str(path))
            print(path)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
