"""Benchmark: tile latency by zoom over real HTTP against the prepared (demo) database.

Serves the app in-process on a loopback port and requests every tile of a 3x3 block around
Guangzhou's centre at zooms 5-16. Prints median / p95 ms and mean KB per zoom band.
Usage: .venv/bin/python bench/tiles.py   (after `make demo` or `zhengtu seed`)
"""

from __future__ import annotations

import logging
import statistics
import threading
import time

import requests
from werkzeug.serving import make_server

from dashboard.app import create_app
from layers.tiles import tile_for

CENTRE = (113.30, 23.12)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app()
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    session = requests.Session()
    print(f"{'layer':<12}{'zoom':>6}{'tiles':>7}{'median ms':>11}{'p95 ms':>9}{'mean KB':>9}")
    for layer in ("entities", "admin_areas"):
        for z in range(5, 17):
            centre = tile_for(*CENTRE, z)
            times, sizes = [], []
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    t0 = time.perf_counter()
                    r = session.get(f"{base}/tiles/{layer}/{z}/{centre.x + dx}/{centre.y + dy}.mvt")
                    times.append((time.perf_counter() - t0) * 1000)
                    sizes.append(len(r.content) / 1024)
            times.sort()
            p95 = times[int(0.95 * (len(times) - 1))]
            print(f"{layer:<12}{z:>6}{len(times):>7}{statistics.median(times):>11.1f}{p95:>9.1f}"
                  f"{statistics.mean(sizes):>9.1f}")
    server.shutdown()


if __name__ == "__main__":
    main()
