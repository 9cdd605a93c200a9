"""Screenshot pages at phone, desk and wall sizes in headless Chromium (for looking, not testing).

Usage: .venv/bin/python scripts/screenshots.py http://127.0.0.1:8050 / /admin/audit \
           [--out shots] [--user NAME --password PW]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from selenium.webdriver.common.by import By

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import chromium  # noqa: E402

SIZES = {"phone": (390, 844), "desk": (1920, 1080), "wall": (3840, 2160)}


def sign_in(driver, base: str, user: str, password: str) -> None:
    """Log in through the form."""
    driver.get(base + "/login")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form button").click()
    time.sleep(1)


def settle(driver) -> None:
    """Wait for the map (if any) to finish drawing, or a moment for other pages."""
    for _ in range(40):
        state = driver.execute_script(
            "return window.ztMap ? (window.ztMap.loaded() && window.ztMap.areTilesLoaded()) : null")
        if state is None and _ > 4 or state:
            break
        time.sleep(0.5)
    time.sleep(1)


def main() -> None:
    """One PNG per page and size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for size, (w, h) in SIZES.items():
        driver = chromium(w, h, mobile=size == "phone")
        try:
            if args.user:
                sign_in(driver, args.base, args.user, args.password)
            for path in args.paths:
                driver.get(args.base + path)
                settle(driver)
                name = path.strip("/").replace("/", "_").replace("?", "_") or "home"
                target = out / f"{name}-{size}.png"
                driver.save_screenshot(str(target))
                print(target)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
