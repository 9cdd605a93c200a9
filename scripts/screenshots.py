"""Screenshot pages at phone, desk and wall sizes in headless Chromium (for looking, not testing).

Usage: .venv/bin/python scripts/screenshots.py http://127.0.0.1:8050/ [out_dir]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import chromium  # noqa: E402

SIZES = {"phone": (390, 844), "desk": (1920, 1080), "wall": (3840, 2160)}


def main() -> None:
    """Take one PNG per size."""
    url = sys.argv[1]
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    for name, (w, h) in SIZES.items():
        driver = chromium(w, h, mobile=name == "phone")
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
